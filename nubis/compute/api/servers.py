"""``/servers``: boot, list, show, rename and delete servers."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api import passwords, schemas
from nubis.compute.api.common import authorize, body_of, context, core, is_true, page_limit, params_of, version_of
from nubis.compute.api.schemas import servers as server_schemas
from nubis.compute.api.views import links
from nubis.compute.api.views import servers as views
from nubis.compute.api.views import volume_attachments as volume_views


def _bad(field: str, why: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"Invalid input for field/attribute {field}. {why}")


def _checked_create(body: dict[str, Any], version: Version) -> dict[str, Any]:
    """The ``server`` of a create body, valid for ``version``, counts as ints, config_drive as a bool."""
    validation.validate(body, schemas.pick(server_schemas.CREATE, version))
    server: dict[str, Any] = body["server"]
    if not str(server["name"]).strip():
        raise _bad("name", "The name may not be blank.")
    for field in ("min_count", "max_count"):
        if field in server:
            server[field] = schemas.as_int(server[field], field, 1, server_schemas.MAX_COUNT)
    if server.get("min_count", 1) > server.get("max_count", server.get("min_count", 1)):
        raise _bad("min_count", "min_count must be <= max_count.")
    user_data = server.get("user_data")
    if user_data is not None:
        try:
            base64.b64decode(user_data, validate=True)
        except (binascii.Error, ValueError):
            raise _bad("user_data", "User data must be base64 encoded.") from None
    server["config_drive"] = is_true(str(server.get("config_drive", "false")))
    server["return_reservation_id"] = is_true(str(server.get("return_reservation_id", "false")))
    networks = server.get("networks")
    for item in networks if isinstance(networks, list) else []:
        if not ({"uuid", "port"} & set(item)):
            raise _bad("networks", f"Each network needs a 'uuid' or a 'port', not {item!r}.")
    return server


def create_server(req: router.Request) -> webob.Response:
    authorize(req, "servers:create")
    body = body_of(req)
    server = _checked_create(body, version_of(req))
    hints = body.get("os:scheduler_hints", body.get("OS-SCH-HNT:scheduler_hints")) or {}
    admin_pass = passwords.admin_pass(req, server)
    ctx = context(req)
    zero_disk = core(req).policy.check(ctx, "os_compute_api:servers:create:zero_disk_flavor",
                                       {"project_id": ctx.project_id, "user_id": ctx.user_id})
    made = core(req).servers.create(ctx, server, hints, zero_disk_flavor=zero_disk)
    if server["return_reservation_id"]:
        return router.json_response({"reservation_id": made["reservation_id"]}, status=202)
    base = links.base_url(req)
    return router.json_response({"server": views.created(base, made["id"], admin_pass, server.get("OS-DCF:diskConfig") or "MANUAL")}, status=202,
                                headers={"Location": links.links(base, "servers", made["id"])[0]["href"]})


# The name filter is a regular expression (as in Nova) matched in Python: bound what it may cost.
_ESCAPED = re.compile(r"\\.")
_QUANTIFIED_GROUP = re.compile(r"\)[*+?{]")
_MAX_REPEATS = 2


def _checked_name_filter(pattern: str) -> None:
    """400 for a ``name`` filter that could backtrack for long: too long, a repeated group, or many repeats."""
    bare = _ESCAPED.sub("", pattern)
    repeats = sum(bare.count(c) for c in "*+{")
    if len(pattern) > 255 or _QUANTIFIED_GROUP.search(bare) or repeats > _MAX_REPEATS:
        raise _bad("name", f"The name filter must be at most 255 characters, with at most {_MAX_REPEATS} "
                           "repetitions (*, + or {n,m}) and none applied to a group.")


def list_servers(req: router.Request, detailed: bool = False) -> webob.Response:
    version = version_of(req)
    params = {k: v for k, v in params_of(req).items() if version >= server_schemas.LATER_FILTERS.get(k, version)}
    if "name" in params:
        _checked_name_filter(params["name"])
    all_projects = is_true(params.get("all_tenants", params.get("all_projects")))
    authorize(req, "servers:index:get_all_tenants" if all_projects else "servers:index")
    params["limit"] = str(page_limit(params.get("limit")))
    ctx = context(req)
    # Up to 2.37 a status no server can have lists nothing; from 2.38 it is a 400 (for non-admins).
    rows = core(req).servers.list(ctx, params, all_projects, lenient_status=version_of(req) < Version(2, 38))
    base = links.base_url(req)
    if detailed:
        statuses = host_statuses(req, [inst for inst, _ in rows])
        groups = core(req).servers.security_groups([inst for inst, _ in rows])
        servers = [views.server(base, inst, version_of(req), bool(ctx.is_admin), fault, statuses.get(inst.uuid),
                                groups.get(inst.uuid)) for inst, fault in rows]
        attached = core(req).volume_attachments.attached_to([inst.uuid for inst, _ in rows])
        for one in servers:
            one["os-extended-volumes:volumes_attached"] = volume_views.volumes_attached(attached[one["id"]],
                                                                                       version_of(req))
    else:
        servers = [views.server_brief(base, inst) for inst, _ in rows]
    body: dict[str, Any] = {"servers": servers}
    if params.get("limit") and rows and len(rows) == int(params["limit"]):
        body["servers_links"] = links.next_link(base, "servers/detail" if detailed else "servers", params,
                                                rows[-1][0].uuid)
    return router.json_response(body)


def host_statuses(req: router.Request, instances: list[Any]) -> dict[str, str | None]:
    """Each server's ``host_status`` as this caller may see it (None: not shown), by uuid, from 2.16.

    As Nova: ``servers:show:host_status`` shows every status; ``servers:show:host_status:unknown-only`` shows
    only UNKNOWN (a host that stopped reporting), so a project can tell its server may be unreachable.
    """
    if version_of(req) < Version(2, 16) or not instances:
        return {}
    ctx = context(req)
    c = core(req)
    known = c.services.host_statuses(inst.host for inst in instances)
    shown: dict[str, str | None] = {}
    for inst in instances:
        target = {"project_id": inst.project_id, "user_id": ctx.user_id}
        status = known.get(inst.host, "") if inst.host else ""
        if c.policy.check(ctx, "os_compute_api:servers:show:host_status", target):
            shown[inst.uuid] = status
        elif status == "UNKNOWN" and c.policy.check(ctx, "os_compute_api:servers:show:host_status:unknown-only",
                                                    target):
            shown[inst.uuid] = status
    return shown


def list_servers_detail(req: router.Request) -> webob.Response:
    return list_servers(req, detailed=True)


def owned_server(req: router.Request, server_id: str, rule: str) -> Any:
    """The server (404 if the caller cannot see it), once ``rule`` allows the caller to act on it."""
    inst, _ = core(req).servers.get(context(req), server_id)
    authorize(req, rule, {"project_id": inst.project_id})
    return inst


def shown(req: router.Request, server_id: str, rule: str | None = None) -> dict[str, Any]:
    """The full view of a server at the request's microversion (after checking ``rule`` on it, if given)."""
    ctx = context(req)
    c = core(req)
    inst, fault = c.servers.get(ctx, server_id)
    if rule is not None:
        authorize(req, rule, {"project_id": inst.project_id})
    body = views.server(links.base_url(req), inst, version_of(req), bool(ctx.is_admin), fault,
                        host_statuses(req, [inst]).get(inst.uuid), c.servers.security_groups([inst]).get(inst.uuid))
    if version_of(req) >= Version(2, 71):
        body["server_groups"] = c.groups.of_instance(server_id)
    body["os-extended-volumes:volumes_attached"] = volume_views.volumes_attached(
        c.volume_attachments.attached_to([server_id])[server_id], version_of(req))
    return body


def show_server(req: router.Request, server_id: str) -> webob.Response:
    return router.json_response({"server": shown(req, server_id, "servers:show")})


def update_server(req: router.Request, server_id: str) -> webob.Response:
    owned_server(req, server_id, "servers:update")
    body = body_of(req)
    validation.validate(body, schemas.pick(server_schemas.UPDATE, version_of(req)))
    changes = {k: v for k, v in body["server"].items()
               if k in ("name", "description", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig")}
    core(req).servers.update(context(req), server_id, changes)
    return router.json_response({"server": views.updated(shown(req, server_id), version_of(req))})


def delete_server(req: router.Request, server_id: str) -> webob.Response:
    owned_server(req, server_id, "servers:delete")
    core(req).servers.delete(context(req), server_id)
    return router.empty_response(204)


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/servers": {"GET": list_servers, "POST": create_server},
        f"{prefix}/servers/detail": {"GET": list_servers_detail},
        f"{prefix}/servers/{{server_id}}": {"GET": show_server, "PUT": update_server, "DELETE": delete_server},
    }
