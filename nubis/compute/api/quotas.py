"""``/os-quota-sets`` and ``/os-quota-class-sets``: per-project limits and the defaults (admins change them)."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.compute.api import schemas
from nubis.compute.api.common import authorize, body_of, context, core, is_true, version_of
from nubis.compute.api.schemas import quotas as quota_schemas
from nubis.compute.api.views import quotas as views
from nubis.compute.core.quotas import DEFAULT_CLASS, RESOURCES


def _limits(req: router.Request, wrapper: str) -> tuple[dict[str, int], bool]:
    """The limits a PUT body sets (legacy resources the microversion still has are kept, not enforced), and its
    ``force``."""
    body = body_of(req)
    validation.validate(body, quota_schemas.update(version_of(req), wrapper))
    values: dict[str, Any] = dict(body[wrapper])
    force = is_true(str(values.pop("force", "false")))
    kept = {*RESOURCES, *views.legacy_shown(version_of(req))}
    return {name: schemas.as_int(value, name, -1) for name, value in values.items() if name in kept}, force


def _project(req: router.Request, project_id: str, rule: str) -> None:
    authorize(req, rule, {"project_id": project_id})


def show_quota_set(req: router.Request, project_id: str) -> webob.Response:
    _project(req, project_id, "os-quota-sets:show")
    limits = core(req).quotas.limits(project_id)
    return router.json_response({"quota_set": {"id": project_id, **views.quota_set(limits, version_of(req))}})


def show_quota_set_detail(req: router.Request, project_id: str) -> webob.Response:
    _project(req, project_id, "os-quota-sets:detail")
    c = core(req)
    usage = c.quotas.usage(project_id, req.GET.get("user_id") or context(req).user_id)
    body = views.quota_set(c.quotas.limits(project_id), version_of(req), usage)
    return router.json_response({"quota_set": {"id": project_id, **body}})


def show_quota_defaults(req: router.Request, project_id: str) -> webob.Response:
    _project(req, project_id, "os-quota-sets:defaults")
    defaults = views.quota_set(core(req).quotas.defaults(), version_of(req))
    return router.json_response({"quota_set": {"id": project_id, **defaults}})


def update_quota_set(req: router.Request, project_id: str) -> webob.Response:
    _project(req, project_id, "os-quota-sets:update")
    c = core(req)
    limits, force = _limits(req, "quota_set")
    c.quotas.update(project_id, limits, force, c.quotas.usage(project_id, None))
    return router.json_response({"quota_set": views.quota_set(c.quotas.limits(project_id), version_of(req))})


def delete_quota_set(req: router.Request, project_id: str) -> webob.Response:
    _project(req, project_id, "os-quota-sets:delete")
    core(req).quotas.reset(project_id)
    return router.empty_response(202)


def quota_class_set(req: router.Request, class_name: str) -> webob.Response:
    authorize(req, "os-quota-class-sets:show" if req.method == "GET" else "os-quota-class-sets:update")
    if class_name != "default":
        raise exceptions.BadRequest("Only the 'default' quota class is supported.")
    c = core(req)
    if req.method == "PUT":
        limits, _ = _limits(req, "quota_class_set")
        c.quotas.update(DEFAULT_CLASS, limits, True, None)
    body = views.quota_set(c.quotas.defaults(), version_of(req))
    return router.json_response({"quota_class_set": {"id": class_name, **body} if req.method == "GET" else body})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-quota-sets/{{project_id}}": {"GET": show_quota_set, "PUT": update_quota_set,
                                                   "DELETE": delete_quota_set},
        f"{prefix}/os-quota-sets/{{project_id}}/detail": {"GET": show_quota_set_detail},
        f"{prefix}/os-quota-sets/{{project_id}}/defaults": {"GET": show_quota_defaults},
        f"{prefix}/os-quota-class-sets/{{class_name}}": {"GET": quota_class_set, "PUT": quota_class_set},
    }
