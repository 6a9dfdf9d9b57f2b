"""Compute v2.1 handlers: validate, authorise, call the core, shape the response."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.common.db import types as db_types
from nubis.compute.api import aggregates, validation
from nubis.compute.api.common import body_of as _body
from nubis.compute.api.common import core
from nubis.compute.api.common import version_of as _version
from nubis.compute.core import views
from nubis.compute.core.usage import parse_time

MIN_VERSION, MAX_VERSION = "2.1", "2.90"


def _base(req: router.Request) -> str:
    return req.host_url


def _params(req: router.Request) -> dict[str, str]:
    return {k: v for k, v in req.GET.items()}


# -- versions -------------------------------------------------------------------------------------------

def _version_entry(req: router.Request) -> dict[str, Any]:
    return {"id": "v2.1", "status": "CURRENT", "version": MAX_VERSION, "min_version": MIN_VERSION,
            "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": f"{req.host_url}/v2.1/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


@router.public
def versions(req: router.Request) -> webob.Response:
    return router.json_response({"versions": [_version_entry(req)]})


@router.public
def version(req: router.Request) -> webob.Response:
    return router.json_response({"version": _version_entry(req)})


# -- flavors ----------------------------------------------------------------------------------------------

def _flavor_view(req: router.Request, flavor: dict[str, Any], detailed: bool) -> dict[str, Any]:
    v = _version(req)
    body = {k: v_ for k, v_ in flavor.items() if not k.startswith("_")}
    body["links"] = views.links(_base(req), "flavors", body["id"])
    if v >= Version(2, 75) and body["swap"] == "":
        body["swap"] = 0
    if v < Version(2, 61):
        body.pop("extra_specs")
    if v < Version(2, 55):
        body.pop("description")
    if not detailed:
        body = {k: body[k] for k in ("id", "name", "links", "description") if k in body}
    return body


def list_flavors(req: router.Request, detailed: bool = False) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "flavors")
    flavors = c.flavors.list(req.context, c.is_admin(req.context), _params(req))
    return router.json_response({"flavors": [_flavor_view(req, f, detailed) for f in flavors]})


def list_flavors_detail(req: router.Request) -> webob.Response:
    return list_flavors(req, detailed=True)


def show_flavor(req: router.Request, flavor_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "flavors")
    flavor = c.flavors.get(req.context, flavor_id, c.is_admin(req.context))
    return router.json_response({"flavor": _flavor_view(req, flavor, True)})


def create_flavor(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-flavor-manage")
    return router.json_response({"flavor": _flavor_view(req, c.flavors.create(_body(req)), True)})


def delete_flavor(req: router.Request, flavor_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-flavor-manage")
    c.flavors.delete(flavor_id)
    return router.empty_response(202)


def list_extra_specs(req: router.Request, flavor_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "flavors")
    return router.json_response({"extra_specs": c.flavors.get_extra_specs(req.context, flavor_id,
                                                                          c.is_admin(req.context))})


def set_extra_specs(req: router.Request, flavor_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-flavor-manage")
    return router.json_response({"extra_specs": c.flavors.set_extra_specs(flavor_id, _body(req).get("extra_specs"))})


def show_extra_spec(req: router.Request, flavor_id: str, key: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "flavors")
    specs = c.flavors.get_extra_specs(req.context, flavor_id, c.is_admin(req.context))
    if key not in specs:
        raise exceptions.NotFound(f"Flavor {flavor_id} does not have extra spec with key {key}.")
    return router.json_response({key: specs[key]})


def update_extra_spec(req: router.Request, flavor_id: str, key: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-flavor-manage")
    body = _body(req)
    if list(body) != [key]:
        raise exceptions.BadRequest(f"The body must hold exactly the key in the URL ({key}).")
    specs = c.flavors.set_extra_specs(flavor_id, body)
    return router.json_response({key: specs[key]})


def delete_extra_spec(req: router.Request, flavor_id: str, key: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-flavor-manage")
    c.flavors.delete_extra_spec(flavor_id, key)
    return router.empty_response(200)


def flavor_access(req: router.Request, flavor_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-flavor-manage")
    return router.json_response({"flavor_access": c.flavors.access(flavor_id)})


def flavor_action(req: router.Request, flavor_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-flavor-manage")
    body = _body(req)
    for name, add in (("addTenantAccess", True), ("removeTenantAccess", False)):
        if name in body:
            tenant = (body[name] or {}).get("tenant") if isinstance(body[name], dict) else None
            if not tenant:
                raise exceptions.BadRequest(f"{name} needs a 'tenant'.")
            return router.json_response({"flavor_access": c.flavors.access(flavor_id, tenant, add)})
    raise exceptions.BadRequest("Unknown flavor action: use addTenantAccess or removeTenantAccess.")


# -- keypairs ---------------------------------------------------------------------------------------------

def _keypair_user(req: router.Request) -> str:
    user = req.GET.get("user_id")
    if user and user != req.context.user_id:
        core(req).authorize(req.context, "os-services")  # only admins act for other users
        return user
    return req.context.user_id  # type: ignore[no-any-return]


def list_keypairs(req: router.Request) -> webob.Response:
    c = core(req)
    user = _keypair_user(req)
    c.authorize(req.context, "os-keypairs", {"user_id": user})
    return router.json_response({"keypairs": [{"keypair": k} for k in c.keypairs.list(user)]})


def create_keypair(req: router.Request) -> webob.Response:
    c = core(req)
    body = _body(req)
    if isinstance(body.get("keypair"), dict) and body["keypair"].get("user_id") not in (None, req.context.user_id):
        c.authorize(req.context, "os-services")
    c.authorize(req.context, "os-keypairs", {"user_id": req.context.user_id})
    keypair = c.keypairs.create(req.context.user_id, req.context.project_id, body)
    if _version(req) < Version(2, 2):
        keypair.pop("type", None)
    status = 201 if _version(req) >= Version(2, 2) else 200
    return router.json_response({"keypair": keypair}, status=status)


def show_keypair(req: router.Request, name: str) -> webob.Response:
    c = core(req)
    user = _keypair_user(req)
    c.authorize(req.context, "os-keypairs", {"user_id": user})
    return router.json_response({"keypair": c.keypairs.get(user, name)})


def delete_keypair(req: router.Request, name: str) -> webob.Response:
    c = core(req)
    user = _keypair_user(req)
    c.authorize(req.context, "os-keypairs", {"user_id": user})
    c.keypairs.delete(user, name)
    return router.empty_response(202 if _version(req) < Version(2, 2) else 204)


# -- servers ----------------------------------------------------------------------------------------------

def _server_view(req: router.Request, inst: Any, fault: Any) -> dict[str, Any]:
    c = core(req)
    return views.server(_base(req), inst, _version(req), c.is_admin(req.context), fault)


def create_server(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "servers:create")
    body = _body(req)
    server = validation.server_create(body, _version(req))
    hints = validation.scheduler_hints(body)
    made = c.servers.create(req.context, server, hints, c.is_admin(req.context))
    shown = {"id": made["id"], "links": views.links(_base(req), "servers", made["id"]),
             "OS-DCF:diskConfig": "MANUAL", "security_groups": [{"name": "default"}]}
    if server.get("return_reservation_id"):
        return router.json_response({"reservation_id": made["reservation_id"]}, status=202)
    return router.json_response({"server": shown}, status=202,
                                headers={"Location": views.links(_base(req), "servers", made["id"])[0]["href"]})


def list_servers(req: router.Request, detailed: bool = False) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "servers:index")
    params = _params(req)
    all_projects = params.get("all_tenants", params.get("all_projects", "false")).lower() in ("", "1", "true")
    if all_projects:
        c.authorize(req.context, "servers:index:get_all_tenants")
    rows = c.servers.list(req.context, params, all_projects)
    if detailed:
        servers = [_server_view(req, inst, fault) for inst, fault in rows]
    else:
        servers = [views.server_brief(_base(req), inst) for inst, _ in rows]
    body: dict[str, Any] = {"servers": servers}
    if params.get("limit") and rows and len(rows) == int(params["limit"]):
        query = "&".join(f"{k}={v}" for k, v in params.items() if k != "marker")
        body["servers_links"] = [{"rel": "next", "href": f"{_base(req)}/v2.1/servers{'/detail' if detailed else ''}"
                                                         f"?{query}&marker={rows[-1][0].uuid}"}]
    return router.json_response(body)


def list_servers_detail(req: router.Request) -> webob.Response:
    return list_servers(req, detailed=True)


def show_server(req: router.Request, server_id: str) -> webob.Response:
    c = core(req)
    inst, fault = c.servers.get(req.context, server_id, c.is_admin(req.context))
    c.authorize(req.context, "servers:show", {"project_id": inst.project_id})
    body = _server_view(req, inst, fault)
    if _version(req) >= Version(2, 71):
        body["server_groups"] = c.groups.of_instance(server_id)
    return router.json_response({"server": body})


def update_server(req: router.Request, server_id: str) -> webob.Response:
    c = core(req)
    inst, _ = c.servers.get(req.context, server_id, c.is_admin(req.context))
    c.authorize(req.context, "servers:update", {"project_id": inst.project_id})
    changes = _body(req).get("server")
    if not isinstance(changes, dict) or set(changes) - {"name", "description"}:
        raise exceptions.BadRequest("Only name and description of a server can be updated.")
    if "name" in changes and (not isinstance(changes["name"], str) or not changes["name"].strip()):
        raise exceptions.BadRequest("Invalid input for field/attribute name.")
    c.servers.update(req.context, server_id, changes, c.is_admin(req.context))
    return show_server(req, server_id)


def delete_server(req: router.Request, server_id: str) -> webob.Response:
    c = core(req)
    inst, _ = c.servers.get(req.context, server_id, c.is_admin(req.context))
    c.authorize(req.context, "servers:delete", {"project_id": inst.project_id})
    c.servers.delete(req.context, server_id, c.is_admin(req.context))
    return router.empty_response(204)


_POWER = {"os-start": "start", "os-stop": "stop", "pause": "pause", "unpause": "unpause", "suspend": "suspend",
          "resume": "resume"}


def server_action(req: router.Request, server_id: str) -> webob.Response:
    c = core(req)
    is_admin = c.is_admin(req.context)
    inst, _ = c.servers.get(req.context, server_id, is_admin)
    c.authorize(req.context, "servers:action", {"project_id": inst.project_id})
    body = _body(req)
    if len(body) != 1:
        raise exceptions.BadRequest("Give exactly one action, e.g. {\"os-stop\": null}.")
    name, arg = next(iter(body.items()))
    if name in _POWER:
        c.servers.power(req.context, server_id, _POWER[name], is_admin)
    elif name == "reboot":
        kind = (arg or {}).get("type") if isinstance(arg, dict) else None
        if kind not in ("SOFT", "HARD"):
            raise exceptions.BadRequest("Invalid input for field/attribute type: reboot needs type SOFT or HARD.")
        c.servers.power(req.context, server_id, "reboot" if kind == "SOFT" else "reboot_hard", is_admin)
    elif name in ("lock", "unlock"):
        reason = arg.get("locked_reason") if isinstance(arg, dict) else None
        if reason is not None and _version(req) < Version(2, 73):
            raise exceptions.BadRequest("locked_reason needs microversion 2.73.")
        c.servers.lock(req.context, server_id, name == "lock", reason, is_admin)
    elif name == "os-getConsoleOutput":
        length = (arg or {}).get("length") if isinstance(arg, dict) else None
        try:
            lines = None if length in (None, -1) else int(length)
        except (TypeError, ValueError):
            raise exceptions.BadRequest(f"Invalid length {length!r}: an integer is required.") from None
        return router.json_response({"output": c.servers.console_output(req.context, server_id, lines, is_admin)})
    elif name == "rebuild":
        changes = validation.rebuild(arg, _version(req))
        c.servers.rebuild(req.context, server_id, changes, is_admin)
        inst, fault = c.servers.get(req.context, server_id, is_admin)
        return router.json_response({"server": _server_view(req, inst, fault)}, status=202)
    elif name == "resize":
        flavor_ref = arg.get("flavorRef") if isinstance(arg, dict) else None
        if not flavor_ref:
            raise exceptions.BadRequest("Invalid input for field/attribute flavorRef: resize needs a flavorRef.")
        c.servers.resize(req.context, server_id, flavor_ref, is_admin)
    elif name == "confirmResize":
        migration = c.moves.pending_cold_migration(server_id)
        if migration:
            c.moves.confirm(req.context, server_id, migration)
        else:
            c.servers.confirm_resize(req.context, server_id, is_admin)
        return router.empty_response(204)
    elif name == "revertResize":
        migration = c.moves.pending_cold_migration(server_id)
        if migration:
            c.moves.revert(req.context, server_id, migration)
        else:
            c.servers.revert_resize(req.context, server_id, is_admin)
    elif name == "createImage":
        if not isinstance(arg, dict):
            raise exceptions.BadRequest("createImage needs {\"name\": ..., \"metadata\": {...}}.")
        image_id = c.snapshots.create(req.context, server_id, arg.get("name"), arg.get("metadata"), is_admin)
        if _version(req) >= Version(2, 45):
            return router.json_response({"image_id": image_id}, status=202)
        return router.empty_response(202, headers={"Location": c.snapshots.image_url(image_id)})
    elif name == "createBackup":
        c.authorize(req.context, "os-create-backup", {"project_id": inst.project_id})
        image_id = c.snapshots.backup(req.context, server_id, arg, is_admin)
        if _version(req) >= Version(2, 45):
            return router.json_response({"image_id": image_id}, status=202)
        return router.empty_response(202, headers={"Location": c.snapshots.image_url(image_id)})
    elif name == "shelve":
        c.snapshots.shelve(req.context, server_id, is_admin)
    elif name == "unshelve":
        zone = arg.get("availability_zone") if isinstance(arg, dict) else None
        if zone is not None and _version(req) < Version(2, 77):
            raise exceptions.BadRequest("Choosing the zone of an unshelve needs microversion 2.77 or later.")
        c.snapshots.unshelve(req.context, server_id, zone, is_admin)
    elif name == "shelveOffload":
        if inst.vm_state != "shelved_offloaded":
            raise exceptions.Conflict(f"Cannot 'shelveOffload' instance {server_id} while it is in vm_state "
                                      f"{inst.vm_state}: shelve it first")
        # Nubis offloads as it shelves: nothing is left to do.
    elif name in ("addSecurityGroup", "removeSecurityGroup"):
        group = arg.get("name") if isinstance(arg, dict) else None
        if not group or not isinstance(group, str):
            raise exceptions.BadRequest(f"{name} needs {{\"name\": <security group name or id>}}.")
        if c.servers.network is None:
            raise exceptions.BadRequest("This cloud has no network service, so servers have no security groups.")
        c.servers.network.change_security_group(inst.project_id, server_id, group, add=name == "addSecurityGroup")
    elif name in ("migrate", "os-migrateLive", "evacuate"):
        return _move(req, server_id, name, arg)
    elif name == "os-resetState":
        c.authorize(req.context, "servers:reset_state")
        state = arg.get("state") if isinstance(arg, dict) else None
        c.servers.reset_state(req.context, server_id, state)
    elif name == "forceDelete":
        c.authorize(req.context, "servers:force_delete")
        c.servers.delete(req.context, server_id, True)
    else:
        raise exceptions.BadRequest(f"There is no such action: {name}")
    return router.empty_response(202)


_MOVES = {"migrate": ("servers:migrate", "migration"), "os-migrateLive": ("servers:migrate_live", "live-migration"),
          "evacuate": ("servers:evacuate", "evacuation")}


def _move(req: router.Request, server_id: str, name: str, arg: Any) -> webob.Response:
    c = core(req)
    rule, kind = _MOVES[name]
    c.authorize(req.context, rule)
    if arg is not None and not isinstance(arg, dict):
        raise exceptions.BadRequest(f"Invalid input for {name}: an object (or null for migrate) is required.")
    arg = arg or {}
    if name == "os-migrateLive" and "host" not in arg:
        raise exceptions.BadRequest("Invalid input for os-migrateLive: 'host' is required (null lets the "
                                    "scheduler choose).")
    if name == "migrate" and arg and _version(req) < Version(2, 56):
        raise exceptions.BadRequest("Choosing the host of a migration needs microversion 2.56 or later.")
    target = arg.get("host")
    if target is not None and (not isinstance(target, str) or not target):
        raise exceptions.BadRequest(f"Invalid host {target!r}: a host name is required.")
    c.moves.move(req.context, server_id, kind, target)
    if name == "evacuate":
        if _version(req) < Version(2, 14):
            return router.json_response({"adminPass": arg.get("adminPass") or ""})
        return router.empty_response(200)
    return router.empty_response(202)


def list_migrations(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-migrations:index")
    migrations = c.moves.list(_params(req))
    return router.json_response({"migrations": [_migration_view(req, m) for m in migrations]})


def list_server_migrations(req: router.Request, server_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-migrations:index")
    c.servers.get(req.context, server_id, True)
    return router.json_response({"migrations": [_migration_view(req, m, server=True)
                                                for m in c.moves.list({}, server_id)]})


def _migration_view(req: router.Request, m: dict[str, Any], server: bool = False) -> dict[str, Any]:
    v = _version(req)
    body = dict(m)
    if server:
        body["server_uuid"] = body.pop("instance_uuid")
        for gone in ("migration_type", "old_instance_type_id", "new_instance_type_id"):
            body.pop(gone)
    elif v >= Version(2, 23):
        body["links"] = views.links(_base(req), f"servers/{m['instance_uuid']}/migrations", str(m["id"]))
    if v < Version(2, 23):
        body.pop("migration_type", None)
    if v < Version(2, 59):
        body.pop("uuid")
    if v < Version(2, 80):
        body.pop("project_id")
        body.pop("user_id")
    return body


def _owned_server(req: router.Request, server_id: str, rule: str = "servers:update") -> Any:
    c = core(req)
    inst, _ = c.servers.get(req.context, server_id, c.is_admin(req.context))
    c.authorize(req.context, rule, {"project_id": inst.project_id})
    return inst


def metadata(req: router.Request, server_id: str) -> webob.Response:
    c = core(req)
    inst = _owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "GET":
        return router.json_response({"metadata": dict(inst.metadata_items or {})})
    items = _body(req).get("metadata")
    merged = c.servers.set_metadata(req.context, server_id, items, req.method == "PUT", c.is_admin(req.context))
    return router.json_response({"metadata": merged})


def metadata_item(req: router.Request, server_id: str, key: str) -> webob.Response:
    c = core(req)
    inst = _owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "GET":
        items = dict(inst.metadata_items or {})
        if key not in items:
            raise exceptions.NotFound(f"Metadata item was not found: {key}")
        return router.json_response({"meta": {key: items[key]}})
    if req.method == "DELETE":
        c.servers.delete_metadata(req.context, server_id, key, c.is_admin(req.context))
        return router.empty_response(204)
    meta = _body(req).get("meta")
    if not isinstance(meta, dict) or list(meta) != [key]:
        raise exceptions.BadRequest(f"The body must be {{\"meta\": {{\"{key}\": value}}}} with the key in the URL.")
    c.servers.set_metadata(req.context, server_id, meta, False, c.is_admin(req.context))
    return router.json_response({"meta": meta})


def _tags_allowed(req: router.Request) -> None:
    if _version(req) < Version(2, 26):
        raise exceptions.NotFound("Server tags need microversion 2.26 or later.")


def tags(req: router.Request, server_id: str) -> webob.Response:
    _tags_allowed(req)
    c = core(req)
    inst = _owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "GET":
        return router.json_response({"tags": list(inst.tags or [])})
    if req.method == "DELETE":
        c.servers.set_tags(req.context, server_id, [], c.is_admin(req.context))
        return router.empty_response(204)
    return router.json_response({"tags": c.servers.set_tags(req.context, server_id, _body(req).get("tags"),
                                                             c.is_admin(req.context))})


def tag(req: router.Request, server_id: str, tag: str) -> webob.Response:
    _tags_allowed(req)
    c = core(req)
    inst = _owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "GET":
        if tag not in (inst.tags or []):
            raise exceptions.NotFound(f"Tag '{tag}' could not be found on instance {server_id}.")
        return router.empty_response(204)
    if req.method == "PUT":
        existed = tag in (inst.tags or [])
        c.servers.set_tags(req.context, server_id, None, c.is_admin(req.context), add=tag)
        return router.empty_response(204 if existed else 201)
    c.servers.set_tags(req.context, server_id, None, c.is_admin(req.context), remove=tag)
    return router.empty_response(204)


def list_instance_actions(req: router.Request, server_id: str) -> webob.Response:
    c = core(req)
    inst, _ = c.servers.get(req.context, server_id, c.is_admin(req.context))
    c.authorize(req.context, "os-instance-actions", {"project_id": inst.project_id})
    actions = [{"action": a.action, "instance_uuid": a.instance_uuid, "request_id": a.request_id,
                "user_id": a.user_id, "project_id": a.project_id, "start_time": a.start_time.isoformat(),
                "message": a.message, "updated_at": (a.finish_time or a.start_time).isoformat()}
               for a in c.instances.actions(server_id)]
    return router.json_response({"instanceActions": actions})


def volume_attachments(req: router.Request, server_id: str) -> webob.Response:
    _owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "POST":
        raise exceptions.BadRequest("Volumes cannot be attached: this cloud has no block storage service.")
    return router.json_response({"volumeAttachments": []})


def interfaces(req: router.Request, server_id: str) -> webob.Response:
    _owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "POST":
        raise exceptions.BadRequest("Attaching an interface to a running server is not supported yet: boot the "
                                    "server with the network (or port) it needs.")
    network = core(req).servers.network
    return router.json_response({"interfaceAttachments": network.interface_attachments(server_id) if network else []})


def external_events(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-server-external-events:create")
    events = c.events.deliver(req.context, _body(req).get("events"))
    codes = {e["code"] for e in events}
    status = 200 if codes == {200} else (404 if 200 not in codes else 207)
    return router.json_response({"events": events}, status=status)


# -- server groups --------------------------------------------------------------------------------------------

def list_server_groups(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-server-groups")
    all_projects = req.GET.get("all_projects", "false").lower() in ("", "1", "true")
    if all_projects:
        c.authorize(req.context, "os-services")
    groups = c.groups.list(req.context, all_projects, _version(req))
    limit, offset = req.GET.get("limit"), req.GET.get("offset", "0")
    if not offset.isdigit() or (limit is not None and not limit.isdigit()):
        raise exceptions.BadRequest("limit and offset must be non-negative integers.")
    groups = groups[int(offset):]
    return router.json_response({"server_groups": groups[: int(limit)] if limit else groups})


def create_server_group(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-server-groups")
    return router.json_response({"server_group": c.groups.create(req.context, _body(req), _version(req))})


def show_server_group(req: router.Request, group_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-server-groups")
    return router.json_response({"server_group": c.groups.get(req.context, group_id, c.is_admin(req.context),
                                                              _version(req))})


def delete_server_group(req: router.Request, group_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-server-groups")
    c.groups.delete(req.context, group_id, c.is_admin(req.context))
    return router.empty_response(204)


# -- services, hypervisors, zones, limits -----------------------------------------------------------------------

def list_services(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-services")
    return router.json_response({"services": c.services.list(req.GET.get("host"), req.GET.get("binary"))})


def update_service(req: router.Request, service_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-services")
    if _version(req) < Version(2, 53):
        raise exceptions.BadRequest("Updating a service by id needs microversion 2.53 or later.")
    return router.json_response({"service": c.services.update(req.context, service_id, _body(req))})


def delete_service(req: router.Request, service_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-services")
    c.services.delete(service_id)
    return router.empty_response(204)


# Since 2.88 a hypervisor shows its uptime and no longer the usage figures (placement has those).
_USAGE_FIELDS = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
                 "free_disk_gb", "current_workload", "running_vms", "disk_available_least")


def _hypervisor_view(req: router.Request, body: dict[str, Any]) -> dict[str, Any]:
    drop = _USAGE_FIELDS if _version(req) >= Version(2, 88) else ("uptime",)
    return {k: v for k, v in body.items() if k not in drop}


def list_hypervisors(req: router.Request, detailed: bool = False) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-hypervisors")
    return router.json_response({"hypervisors": [_hypervisor_view(req, h) for h in c.services.hypervisors(detailed)]})


def list_hypervisors_detail(req: router.Request) -> webob.Response:
    return list_hypervisors(req, detailed=True)


def _one_hypervisor(req: router.Request, hypervisor_id: str) -> dict[str, Any]:
    c = core(req)
    c.authorize(req.context, "os-hypervisors")
    found = c.services.hypervisors(True, hypervisor_id)
    if not found:
        raise exceptions.NotFound(f"Hypervisor with ID {hypervisor_id} could not be found.")
    return found[0]


def show_hypervisor(req: router.Request, hypervisor_id: str) -> webob.Response:
    return router.json_response({"hypervisor": _hypervisor_view(req, _one_hypervisor(req, hypervisor_id))})


def hypervisor_uptime(req: router.Request, hypervisor_id: str) -> webob.Response:
    if _version(req) >= Version(2, 88):
        raise exceptions.NotFound("Since microversion 2.88 the uptime is part of GET /os-hypervisors/{id}.")
    found = _one_hypervisor(req, hypervisor_id)
    return router.json_response({"hypervisor": {k: found[k] for k in ("id", "hypervisor_hostname", "state",
                                                                        "status", "uptime")}})


def limits(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "limits")
    project = req.GET.get("tenant_id") or req.context.project_id
    if project != req.context.project_id:
        c.authorize(req.context, "os-services")
    q = c.quotas.limits(project)
    used = c.quotas.usage(project, req.context.user_id)
    absolute = {"maxTotalInstances": q["instances"], "maxTotalCores": q["cores"], "maxTotalRAMSize": q["ram"],
                "maxTotalKeypairs": q["key_pairs"], "maxServerMeta": q["metadata_items"],
                "maxServerGroups": q["server_groups"], "maxServerGroupMembers": q["server_group_members"],
                "totalInstancesUsed": used["instances"], "totalCoresUsed": used["cores"],
                "totalRAMUsed": used["ram"], "totalServerGroupsUsed": used["server_groups"]}
    return router.json_response({"limits": {"rate": [], "absolute": absolute}})


# -- quotas and usage --------------------------------------------------------------------------------------------

def _quota_project(req: router.Request, project_id: str) -> None:
    c = core(req)
    if project_id != req.context.project_id:
        c.authorize(req.context, "os-services")  # other projects' quotas are for admins
    c.authorize(req.context, "limits")


def show_quota_set(req: router.Request, project_id: str) -> webob.Response:
    _quota_project(req, project_id)
    c = core(req)
    body = {"id": project_id, **c.quotas.shown(c.quotas.limits(project_id), _version(req))}
    return router.json_response({"quota_set": body})


def show_quota_set_detail(req: router.Request, project_id: str) -> webob.Response:
    _quota_project(req, project_id)
    c = core(req)
    usage = c.quotas.usage(project_id, req.GET.get("user_id") or req.context.user_id)
    body = {"id": project_id, **c.quotas.shown(c.quotas.limits(project_id), _version(req), usage)}
    return router.json_response({"quota_set": body})


def show_quota_defaults(req: router.Request, project_id: str) -> webob.Response:
    _quota_project(req, project_id)
    c = core(req)
    return router.json_response({"quota_set": {"id": project_id, **c.quotas.shown(c.quotas.defaults(),
                                                                                  _version(req))}})


def update_quota_set(req: router.Request, project_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-services")
    c.quotas.update(project_id, _body(req), c.quotas.usage(project_id, None))
    return router.json_response({"quota_set": c.quotas.shown(c.quotas.limits(project_id), _version(req))})


def delete_quota_set(req: router.Request, project_id: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-services")
    c.quotas.reset(project_id)
    return router.empty_response(202)


def quota_class_set(req: router.Request, class_name: str) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-services")
    if class_name != "default":
        raise exceptions.BadRequest("Only the 'default' quota class is supported.")
    if req.method == "PUT":
        c.quotas.update("class:default", _body(req), None)
    body = c.quotas.shown(c.quotas.defaults(), _version(req))
    return router.json_response({"quota_class_set": {"id": class_name, **body} if req.method == "GET" else body})


def _usage_period(req: router.Request) -> tuple[Any, Any]:
    now = db_types.utcnow()
    return parse_time(req.GET.get("start"), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)), \
        parse_time(req.GET.get("end"), now)


def list_usage(req: router.Request) -> webob.Response:
    c = core(req)
    c.authorize(req.context, "os-services")
    start, end = _usage_period(req)
    detailed = req.GET.get("detailed", "0") in ("1", "true", "True")
    return router.json_response({"tenant_usages": c.usage.tenant_usages(start, end, None, detailed)})


def show_usage(req: router.Request, project_id: str) -> webob.Response:
    _quota_project(req, project_id)
    c = core(req)
    start, end = _usage_period(req)
    found = c.usage.tenant_usages(start, end, project_id, True)
    return router.json_response({"tenant_usage": found[0] if found else {}})


P = "/v2.1"
ROUTES: router.RouteTable = {
    "/": {"GET": versions},
    P: {"GET": version},
    f"{P}/flavors": {"GET": list_flavors, "POST": create_flavor},
    f"{P}/flavors/detail": {"GET": list_flavors_detail},
    f"{P}/flavors/{{flavor_id}}": {"GET": show_flavor, "DELETE": delete_flavor},
    f"{P}/flavors/{{flavor_id}}/os-extra_specs": {"GET": list_extra_specs, "POST": set_extra_specs},
    f"{P}/flavors/{{flavor_id}}/os-extra_specs/{{key}}": {"GET": show_extra_spec, "PUT": update_extra_spec,
                                                         "DELETE": delete_extra_spec},
    f"{P}/flavors/{{flavor_id}}/os-flavor-access": {"GET": flavor_access},
    f"{P}/flavors/{{flavor_id}}/action": {"POST": flavor_action},
    f"{P}/os-keypairs": {"GET": list_keypairs, "POST": create_keypair},
    f"{P}/os-keypairs/{{name}}": {"GET": show_keypair, "DELETE": delete_keypair},
    f"{P}/servers": {"GET": list_servers, "POST": create_server},
    f"{P}/servers/detail": {"GET": list_servers_detail},
    f"{P}/servers/{{server_id}}": {"GET": show_server, "PUT": update_server, "DELETE": delete_server},
    f"{P}/servers/{{server_id}}/action": {"POST": server_action},
    f"{P}/servers/{{server_id}}/os-instance-actions": {"GET": list_instance_actions},
    f"{P}/servers/{{server_id}}/migrations": {"GET": list_server_migrations},
    f"{P}/os-migrations": {"GET": list_migrations},
    f"{P}/servers/{{server_id}}/metadata": {"GET": metadata, "PUT": metadata, "POST": metadata},
    f"{P}/servers/{{server_id}}/metadata/{{key}}": {"GET": metadata_item, "PUT": metadata_item,
                                                   "DELETE": metadata_item},
    f"{P}/servers/{{server_id}}/tags": {"GET": tags, "PUT": tags, "DELETE": tags},
    f"{P}/servers/{{server_id}}/tags/{{tag}}": {"GET": tag, "PUT": tag, "DELETE": tag},
    f"{P}/servers/{{server_id}}/os-volume_attachments": {"GET": volume_attachments, "POST": volume_attachments},
    f"{P}/servers/{{server_id}}/os-interface": {"GET": interfaces, "POST": interfaces},
    f"{P}/os-server-external-events": {"POST": external_events},
    f"{P}/os-server-groups": {"GET": list_server_groups, "POST": create_server_group},
    f"{P}/os-server-groups/{{group_id}}": {"GET": show_server_group, "DELETE": delete_server_group},
    f"{P}/os-services": {"GET": list_services},
    f"{P}/os-services/{{service_id}}": {"PUT": update_service, "DELETE": delete_service},
    f"{P}/os-hypervisors": {"GET": list_hypervisors},
    f"{P}/os-hypervisors/detail": {"GET": list_hypervisors_detail},
    f"{P}/os-hypervisors/{{hypervisor_id}}": {"GET": show_hypervisor},
    f"{P}/os-hypervisors/{{hypervisor_id}}/uptime": {"GET": hypervisor_uptime},
    f"{P}/limits": {"GET": limits},
    f"{P}/os-quota-sets/{{project_id}}": {"GET": show_quota_set, "PUT": update_quota_set,
                                          "DELETE": delete_quota_set},
    f"{P}/os-quota-sets/{{project_id}}/detail": {"GET": show_quota_set_detail},
    f"{P}/os-quota-sets/{{project_id}}/defaults": {"GET": show_quota_defaults},
    f"{P}/os-quota-class-sets/{{class_name}}": {"GET": quota_class_set, "PUT": quota_class_set},
    f"{P}/os-simple-tenant-usage": {"GET": list_usage},
    f"{P}/os-simple-tenant-usage/{{project_id}}": {"GET": show_usage},
    **aggregates.routes(P),
}
