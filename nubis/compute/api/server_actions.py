"""``POST /servers/{id}/action``: one table from action name to its policy rule and its function."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api import consoles, network_proxies, passwords, schemas, server_moves
from nubis.compute.api.common import authorize, body_of, context, core, version_of
from nubis.compute.api.schemas import servers as server_schemas
from nubis.compute.api.servers import shown
from nubis.compute.api.views import servers as views

# An action's function: (request, the server's record, the action's argument) -> a response, or None for 202.
Run = Callable[[router.Request, Any, Any], webob.Response | None]


@dataclasses.dataclass(frozen=True)
class Action:
    rule: str  # os_compute_api:<rule>, checked against the server's project
    run: Run


def _validate(name: str, arg: Any, schema: schemas.Schema) -> None:
    """Check an action's argument, errors naming the field under the action (``resize/flavorRef``)."""
    validation.validate({name: arg}, {"type": "object", "properties": {name: schema}})


def _power(name: str) -> Run:
    def run(req: router.Request, inst: Any, arg: Any) -> None:
        core(req).servers.power(context(req), inst.uuid, name)
    return run


def _reboot(req: router.Request, inst: Any, arg: Any) -> None:
    _validate("reboot", arg, server_schemas.REBOOT)
    core(req).servers.power(context(req), inst.uuid, "reboot" if arg["type"].upper() == "SOFT" else "reboot_hard")


def _lock(locked: bool) -> Run:
    def run(req: router.Request, inst: Any, arg: Any) -> None:
        reason = arg.get("locked_reason") if isinstance(arg, dict) else None
        if reason is not None and (version_of(req) < Version(2, 73) or not locked):
            raise exceptions.BadRequest("locked_reason needs microversion 2.73 (and goes with lock).")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
            raise exceptions.BadRequest("Invalid input for field/attribute locked_reason: at most 255 characters.")
        core(req).servers.lock(context(req), inst.uuid, locked, reason)
    return run


def _console_output(req: router.Request, inst: Any, arg: Any) -> webob.Response:
    length = arg.get("length") if isinstance(arg, dict) else None
    lines = None if length in (None, -1, "-1") else schemas.as_int(length, "length", 0)
    return router.json_response({"output": core(req).servers.console_output(context(req), inst.uuid, lines)})


def _rebuild(req: router.Request, inst: Any, arg: Any) -> webob.Response:
    _validate("rebuild", arg, schemas.pick(server_schemas.REBUILD, version_of(req)))
    admin_pass = passwords.admin_pass(req, arg)
    c, ctx = core(req), context(req)
    c.servers.rebuild(ctx, inst.uuid, arg)
    rebuilt, _ = c.servers.get(ctx, inst.uuid)
    body = views.rebuilt(shown(req, inst.uuid), version_of(req), rebuilt.user_data)
    return router.json_response({"server": views.with_admin_pass(body, admin_pass)}, status=202)


def _resize(req: router.Request, inst: Any, arg: Any) -> None:
    _validate("resize", arg, server_schemas.RESIZE)
    core(req).servers.resize(context(req), inst.uuid, str(arg["flavorRef"]), arg.get("OS-DCF:diskConfig"))


def _finish_resize(confirm: bool) -> Run:
    """confirmResize (204) or revertResize (202), of a cold migration or of a resize on the same host."""
    def run(req: router.Request, inst: Any, arg: Any) -> webob.Response | None:
        c, ctx = core(req), context(req)
        migration = c.moves.pending_cold_migration(inst.uuid)
        if migration:
            (c.moves.confirm if confirm else c.moves.revert)(ctx, inst.uuid, migration)
        else:
            (c.servers.confirm_resize if confirm else c.servers.revert_resize)(ctx, inst.uuid)
        return router.empty_response(204) if confirm else None
    return run


def _image_made(req: router.Request, image_id: str) -> webob.Response:
    if version_of(req) >= Version(2, 45):
        return router.json_response({"image_id": image_id}, status=202)
    return router.empty_response(202, headers={"Location": core(req).snapshots.image_url(image_id)})


def _create_image(req: router.Request, inst: Any, arg: Any) -> webob.Response:
    _validate("createImage", arg, server_schemas.CREATE_IMAGE)
    return _image_made(req, core(req).snapshots.create(context(req), inst.uuid, arg["name"], arg.get("metadata")))


def _create_backup(req: router.Request, inst: Any, arg: Any) -> webob.Response:
    return _image_made(req, core(req).snapshots.backup(context(req), inst.uuid, arg))


def _shelve(req: router.Request, inst: Any, arg: Any) -> None:
    core(req).snapshots.shelve(context(req), inst.uuid)


def _unshelve(req: router.Request, inst: Any, arg: Any) -> None:
    zone = arg.get("availability_zone") if isinstance(arg, dict) else None
    if zone is not None and version_of(req) < Version(2, 77):
        raise exceptions.BadRequest("Choosing the zone of an unshelve needs microversion 2.77 or later.")
    core(req).snapshots.unshelve(context(req), inst.uuid, zone)


def _shelve_offload(req: router.Request, inst: Any, arg: Any) -> None:
    if inst.vm_state != "shelved_offloaded":
        raise exceptions.Conflict(f"Cannot 'shelveOffload' instance {inst.uuid} while it is in vm_state "
                                  f"{inst.vm_state}: shelve it first")
    # Nubis offloads as it shelves: nothing is left to do.


def _security_group(add: bool) -> Run:
    def run(req: router.Request, inst: Any, arg: Any) -> None:
        group = arg.get("name") if isinstance(arg, dict) else None
        if not group or not isinstance(group, str) or len(group) > 255:
            raise exceptions.BadRequest("Invalid input for field/attribute name: give {\"name\": <security group "
                                        "name or id>}.")
        network = core(req).servers.network
        if network is None:
            raise exceptions.BadRequest("This cloud has no network service, so servers have no security groups.")
        network.change_security_group(inst.project_id, inst.uuid, group, add=add)
    return run


def _reset_state(req: router.Request, inst: Any, arg: Any) -> None:
    state = arg.get("state") if isinstance(arg, dict) else None
    core(req).servers.reset_state(context(req), inst.uuid, state)


_RESCUE: schemas.Schema = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "adminPass": {"type": "string", "maxLength": 255}, "rescue_image_ref": schemas.UUID}}


def _rescue(req: router.Request, inst: Any, arg: Any) -> webob.Response:
    """Nova's rescue: 200 ``{"adminPass": ...}`` (left out when ``[api] enable_instance_password`` is off)."""
    _validate("rescue", arg, _RESCUE)
    admin_pass = passwords.admin_pass(req, arg)
    core(req).servers.rescue(context(req), inst.uuid, (arg or {}).get("rescue_image_ref"),
                             allow_bfv_rescue=version_of(req) >= Version(2, 87))
    return router.json_response({} if admin_pass is None else {"adminPass": admin_pass})


def _unrescue(req: router.Request, inst: Any, arg: Any) -> None:
    core(req).servers.unrescue(context(req), inst.uuid)


def _trigger_crash_dump(req: router.Request, inst: Any, arg: Any) -> None:
    if version_of(req) < Version(2, 17):
        raise exceptions.NotFound("trigger_crash_dump needs microversion 2.17 or later.")
    if arg is not None:
        raise exceptions.BadRequest("Invalid input for field/attribute trigger_crash_dump: give null.")
    core(req).servers.trigger_crash_dump(context(req), inst.uuid)
_CHANGE_PASSWORD: schemas.Schema = {"type": "object", "additionalProperties": False, "required": ["adminPass"],
                                    "properties": {"adminPass": {"type": "string", "maxLength": 255}}}


def _change_password(req: router.Request, inst: Any, arg: Any) -> None:
    """Nova's changePassword: 202 once the guest agent set it; the password is not returned."""
    _validate("changePassword", arg, _CHANGE_PASSWORD)
    core(req).guest_ops.change_password(context(req), inst.uuid, arg["adminPass"])


def _restore(req: router.Request, inst: Any, arg: Any) -> None:
    """``restore`` undoes a soft delete. Nubis deletes at once (no ``reclaim_instance_interval``), so no server is
    ever soft-deleted: a visible server is in another state, Nova's 409."""
    raise exceptions.Conflict(f"Cannot 'restore' instance {inst.uuid} while it is in vm_state {inst.vm_state}")


def _inject_network_info(req: router.Request, inst: Any, arg: Any) -> None:
    """``injectNetworkInfo``: the server's host refreshes what it knows of the server's ports, as on a
    ``network-changed`` event (Nova's drivers then have nothing to inject into a running guest either)."""
    core(req).events.deliver(context(req), [{"name": "network-changed", "server_uuid": inst.uuid}])


def _force_delete(req: router.Request, inst: Any, arg: Any) -> None:
    core(req).servers.delete(context(req), inst.uuid)


_MEMBER = "servers:action"
TABLE: dict[str, Action] = {
    **{name: Action(_MEMBER, _power(power)) for name, power in (
        ("os-start", "start"), ("os-stop", "stop"), ("pause", "pause"), ("unpause", "unpause"),
        ("suspend", "suspend"), ("resume", "resume"))},
    "reboot": Action(_MEMBER, _reboot),
    "lock": Action(_MEMBER, _lock(True)),
    "unlock": Action(_MEMBER, _lock(False)),
    "os-getConsoleOutput": Action(_MEMBER, _console_output),
    "rebuild": Action(_MEMBER, _rebuild),
    "resize": Action(_MEMBER, _resize),
    "confirmResize": Action(_MEMBER, _finish_resize(True)),
    "revertResize": Action(_MEMBER, _finish_resize(False)),
    "createImage": Action(_MEMBER, _create_image),
    "createBackup": Action("os-create-backup", _create_backup),
    "shelve": Action(_MEMBER, _shelve),
    "unshelve": Action(_MEMBER, _unshelve),
    "shelveOffload": Action(_MEMBER, _shelve_offload),
    "addSecurityGroup": Action(_MEMBER, _security_group(True)),
    "removeSecurityGroup": Action(_MEMBER, _security_group(False)),
    "migrate": Action("servers:migrate", server_moves.migrate),
    "os-migrateLive": Action("servers:migrate_live", server_moves.migrate_live),
    "evacuate": Action("servers:evacuate", server_moves.evacuate),
    "os-resetState": Action("servers:reset_state", _reset_state),
    "forceDelete": Action("servers:force_delete", _force_delete),
    "rescue": Action("os-rescue", _rescue),
    "changePassword": Action("os-admin-password", _change_password),
    "unrescue": Action("os-unrescue", _unrescue),
    "trigger_crash_dump": Action("servers:trigger_crash_dump", _trigger_crash_dump),
    "os-getVNCConsole": Action(consoles.REMOTE_RULE, consoles.legacy_action(["novnc", "xvpvnc"])),
    "os-getSPICEConsole": Action(consoles.REMOTE_RULE, consoles.legacy_action(["spice-html5"])),
    "os-getSerialConsole": Action(consoles.REMOTE_RULE, consoles.legacy_action(["serial"])),
    "restore": Action("os-deferred-delete:restore", _restore),
    "injectNetworkInfo": Action("os-admin-actions:inject_network_info", _inject_network_info),
    "addFloatingIp": Action("os-floating-ips:add", network_proxies.add_floating_ip),
    "removeFloatingIp": Action("os-floating-ips:remove", network_proxies.remove_floating_ip),
}


def server_action(req: router.Request, server_id: str) -> webob.Response:
    body = body_of(req)
    if len(body) != 1:
        raise exceptions.BadRequest("Give exactly one action, e.g. {\"os-stop\": null}.")
    name, arg = next(iter(body.items()))
    action = TABLE.get(name)
    if action is None:
        raise exceptions.BadRequest(f"There is no such action: {name}")
    inst, _ = core(req).servers.get(context(req), server_id)
    authorize(req, action.rule, {"project_id": inst.project_id})
    return action.run(req, inst, arg) or router.empty_response(202)
