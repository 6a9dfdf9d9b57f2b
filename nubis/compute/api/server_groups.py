"""``/os-server-groups``: affinity groups of a project's servers."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.compute.api import schemas
from nubis.compute.api.common import authorize, body_of, context, core, is_true, page_limit, version_of
from nubis.compute.api.schemas import server_groups as group_schemas
from nubis.compute.api.views import server_groups as views


def list_server_groups(req: router.Request) -> webob.Response:
    all_projects = is_true(req.GET.get("all_projects"))
    authorize(req, "os-server-groups:index:all_projects" if all_projects else "os-server-groups:index")
    limit = page_limit(req.GET.get("limit"))
    offset = schemas.as_int(req.GET.get("offset", 0), "offset", 0)
    groups = core(req).groups.list(context(req), all_projects, limit, offset)
    return router.json_response({"server_groups": [views.server_group(g, version_of(req)) for g in groups]})


def create_server_group(req: router.Request) -> webob.Response:
    authorize(req, "os-server-groups:create")
    body = body_of(req)
    validation.validate(body, schemas.pick(group_schemas.CREATE, version_of(req)))
    spec = body["server_group"]
    policy = spec["policy"] if "policy" in spec else spec["policies"][0]
    per_host = (spec.get("rules") or {}).get("max_server_per_host")
    group = core(req).groups.create(context(req), spec["name"], policy,
                                    None if per_host is None else schemas.as_int(per_host, "max_server_per_host", 1))
    return router.json_response({"server_group": views.server_group(group, version_of(req))})


def show_server_group(req: router.Request, group_id: str) -> webob.Response:
    group = core(req).groups.get(context(req), group_id)
    authorize(req, "os-server-groups:show", {"project_id": group["project_id"]})
    return router.json_response({"server_group": views.server_group(group, version_of(req))})


def delete_server_group(req: router.Request, group_id: str) -> webob.Response:
    group = core(req).groups.get(context(req), group_id)
    authorize(req, "os-server-groups:delete", {"project_id": group["project_id"]})
    core(req).groups.delete(context(req), group_id)
    return router.empty_response(204)


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-server-groups": {"GET": list_server_groups, "POST": create_server_group},
        f"{prefix}/os-server-groups/{{group_id}}": {"GET": show_server_group, "DELETE": delete_server_group},
    }
