"""The conductor's RPC interface: the API hands it boots, agents report through it (they hold no DB credentials).

Version history:
  1.0 - build_instances, instance_update, instance_deleted, add_fault, finish_action,
        service_heartbeat, compute_node_update, host_instances, resize_instance, revert_resize
  1.1 - schedule_move, execute_move, confirm_move, revert_move; instance_update(only_if_idle);
        unshelve_instance
  1.2 - instance_update(expected_vm_state, fault, action): a state, the fault that explains it and the end
        of the action that led to it in one transaction
  1.3 - service_heartbeat(versions): the release and RPC versions the service runs
  1.4 - check_console_token (for the console proxies, which hold no DB credentials)
  1.5 - deleted_instances (for an agent releasing ports of instances deleted while it was down)
"""

from __future__ import annotations

from typing import Any, ClassVar

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext
from nubis.compute.core.instances import ActionEnd, Fault

TOPIC = "conductor"


class ConductorAPI(rpc.RPCClient):
    TOPIC = TOPIC
    VERSION = "1.5"
    SINCE: ClassVar[dict[str, str]] = {
        **{method: "1.1" for method in ("unshelve_instance", "schedule_move", "execute_move", "confirm_move",
                                        "revert_move")},
        "check_console_token": "1.4", "deleted_instances": "1.5"}

    def build_instances(self, ctxt: RequestContext, instances: list[dict[str, Any]], spec: dict[str, Any]) -> None:
        """Schedule and start ``instances`` (cast: the API answers 202 at once)."""
        self.prepare(version="1.0").cast(ctxt, "build_instances", instances=instances, spec=spec)

    def instance_update(self, ctxt: RequestContext, uuid: str, values: dict[str, Any],
                        expected_task_state: str | None = None, only_if_idle: bool = False,
                        expected_vm_state: str | None = None, fault: Fault | None = None,
                        action: ActionEnd | None = None) -> bool:
        """Apply ``values``; with ``expected_task_state`` only if the instance is still in it, with
        ``only_if_idle`` only if no action is under way (task_state None), with ``expected_vm_state`` only
        if it rests in that vm_state. ``fault`` and the end of ``action`` are recorded with the change, in
        its transaction, and only if it happened. True when it happened."""
        if self.can_send_version("1.2"):
            return self.prepare(version="1.2").call(
                ctxt, "instance_update", uuid=uuid, values=values, expected_task_state=expected_task_state,
                only_if_idle=only_if_idle, expected_vm_state=expected_vm_state,
                fault=fault.to_dict() if fault else None,
                action={"request_id": action.request_id, "message": action.message} if action else None)
        # An older conductor writes them one by one: the fault goes first, so ERROR never shows without it.
        if fault is not None:
            self.add_fault(ctxt, uuid, fault.code, fault.message, fault.details)
        if only_if_idle:
            self.require_version("1.1", "instance_update(only_if_idle)")
            done = self.prepare(version="1.1").call(
                ctxt, "instance_update", uuid=uuid, values=values, expected_task_state=None, only_if_idle=True)
        else:
            done = self.prepare(version="1.0").call(
                ctxt, "instance_update", uuid=uuid, values=values, expected_task_state=expected_task_state)
        if action is not None:
            self.finish_action(ctxt, uuid, action.request_id, action.message)
        return bool(done)

    def instance_deleted(self, ctxt: RequestContext, uuid: str) -> None:
        self.prepare(version="1.0").call(ctxt, "instance_deleted", uuid=uuid)

    def resize_instance(self, ctxt: RequestContext, uuid: str, flavor: dict[str, Any]) -> None:
        """Claim ``flavor`` on the instance's host and have its agent apply it (cast)."""
        self.prepare(version="1.0").cast(ctxt, "resize_instance", uuid=uuid, flavor=flavor)

    def revert_resize(self, ctxt: RequestContext, uuid: str) -> None:
        self.prepare(version="1.0").cast(ctxt, "revert_resize", uuid=uuid)

    def unshelve_instance(self, ctxt: RequestContext, uuid: str, zone: str | None) -> None:
        """Place a shelved instance again and boot it from its shelved image (cast)."""
        self.check_can_send("unshelve_instance")
        self.prepare(version="1.1").cast(ctxt, "unshelve_instance", uuid=uuid, zone=zone)

    def schedule_move(self, ctxt: RequestContext, migration_uuid: str, target_host: str | None) -> str | None:
        """Claim a destination for a recorded migration; None on success, else why there is none (call)."""
        self.check_can_send("schedule_move")
        return self.prepare(version="1.1").call(
            ctxt, "schedule_move", migration_uuid=migration_uuid, target_host=target_host)

    def execute_move(self, ctxt: RequestContext, migration_uuid: str) -> None:
        """Move the guest to the scheduled destination (cast)."""
        self.check_can_send("execute_move")
        self.prepare(version="1.1").cast(ctxt, "execute_move", migration_uuid=migration_uuid)

    def confirm_move(self, ctxt: RequestContext, migration_uuid: str) -> None:
        self.check_can_send("confirm_move")
        self.prepare(version="1.1").cast(ctxt, "confirm_move", migration_uuid=migration_uuid)

    def revert_move(self, ctxt: RequestContext, migration_uuid: str) -> None:
        self.check_can_send("revert_move")
        self.prepare(version="1.1").cast(ctxt, "revert_move", migration_uuid=migration_uuid)

    def add_fault(self, ctxt: RequestContext, uuid: str, code: int, message: str, details: str | None = None) -> None:
        self.prepare(version="1.0").call(ctxt, "add_fault", uuid=uuid, code=code, message=message, details=details)

    def finish_action(self, ctxt: RequestContext, uuid: str, request_id: str | None, message: str | None = None) -> None:
        self.prepare(version="1.0").call(ctxt, "finish_action", uuid=uuid, request_id=request_id, message=message)

    def service_heartbeat(self, ctxt: RequestContext, host: str, binary: str,
                          versions: dict[str, Any] | None = None) -> None:
        """The service is up; with ``versions`` (``service_versions.reported``) record what it runs."""
        if versions is not None and self.can_send_version("1.3"):
            self.prepare(version="1.3").call(ctxt, "service_heartbeat", host=host, binary=binary,
                                             versions=versions)
            return
        # An older conductor cannot store them: the row keeps counting as the older release.
        self.prepare(version="1.0").call(ctxt, "service_heartbeat", host=host, binary=binary)

    def compute_node_update(self, ctxt: RequestContext, node: dict[str, Any]) -> None:
        self.prepare(version="1.0").call(ctxt, "compute_node_update", node=node)

    def host_instances(self, ctxt: RequestContext, host: str) -> list[dict[str, Any]]:
        """Instances recorded on ``host`` (for an agent putting things right after a restart)."""
        return self.prepare(version="1.0").call(ctxt, "host_instances", host=host)

    def deleted_instances(self, ctxt: RequestContext, uuids: list[str]) -> dict[str, str]:
        """Of ``uuids``, the instances recorded as deleted: uuid -> project id (unknown uuids are left out).

        :raises ServiceTooOld: the conductor is older than 1.5 (callers check ``can_send_version`` first).
        """
        self.check_can_send("deleted_instances")
        return self.prepare(version="1.5").call(ctxt, "deleted_instances", uuids=uuids)

    def check_console_token(self, ctxt: RequestContext, token: str, consume: bool = False) -> dict[str, Any] | None:
        """The console a valid, unexpired token grants ({"instance_uuid", "console_type", "host", "port",
        "internal_access_path", "access_url_base", "expires", "user_id", "project_id"}), or None; with
        ``consume`` the token is used up ([console] single_use)."""
        self.check_can_send("check_console_token")
        return self.prepare(version="1.4").call(
            ctxt, "check_console_token", token=token, consume=consume)


class ConductorEndpoint:
    target = oslo_messaging.Target(version="1.5")

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def build_instances(self, ctxt: RequestContext, instances: list[dict[str, Any]], spec: dict[str, Any]) -> None:
        self.manager.build_instances(ctxt, instances, spec)

    def instance_update(self, ctxt: RequestContext, uuid: str, values: dict[str, Any],
                        expected_task_state: str | None = None, only_if_idle: bool = False,
                        expected_vm_state: str | None = None, fault: dict[str, Any] | None = None,
                        action: dict[str, Any] | None = None) -> bool:
        return self.manager.instance_update(
            uuid, values, expected_task_state, only_if_idle, expected_vm_state,
            Fault.from_dict(fault) if fault else None, ActionEnd(**action) if action else None)

    def instance_deleted(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.instance_deleted(ctxt, uuid)

    def resize_instance(self, ctxt: RequestContext, uuid: str, flavor: dict[str, Any]) -> None:
        self.manager.resize_instance(ctxt, uuid, flavor)

    def revert_resize(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.revert_resize(ctxt, uuid)

    def add_fault(self, ctxt: RequestContext, uuid: str, code: int, message: str, details: str | None = None) -> None:
        self.manager.add_fault(uuid, code, message, details)

    def finish_action(self, ctxt: RequestContext, uuid: str, request_id: str | None, message: str | None = None) -> None:
        self.manager.finish_action(uuid, request_id, message)

    def service_heartbeat(self, ctxt: RequestContext, host: str, binary: str,
                          versions: dict[str, Any] | None = None) -> None:
        self.manager.service_heartbeat(host, binary, versions)

    def compute_node_update(self, ctxt: RequestContext, node: dict[str, Any]) -> None:
        self.manager.compute_node_update(node)

    def host_instances(self, ctxt: RequestContext, host: str) -> list[dict[str, Any]]:
        return self.manager.host_instances(host)

    def deleted_instances(self, ctxt: RequestContext, uuids: list[str]) -> dict[str, str]:
        return self.manager.instances.deleted_of(uuids)

    def schedule_move(self, ctxt: RequestContext, migration_uuid: str, target_host: str | None) -> str | None:
        return self.manager.moves.schedule(ctxt, migration_uuid, target_host)

    def execute_move(self, ctxt: RequestContext, migration_uuid: str) -> None:
        self.manager.moves.execute(ctxt, migration_uuid)

    def confirm_move(self, ctxt: RequestContext, migration_uuid: str) -> None:
        self.manager.moves.confirm(ctxt, migration_uuid)

    def revert_move(self, ctxt: RequestContext, migration_uuid: str) -> None:
        self.manager.moves.revert(ctxt, migration_uuid)

    def unshelve_instance(self, ctxt: RequestContext, uuid: str, zone: str | None) -> None:
        self.manager.unshelve_instance(ctxt, uuid, zone)

    def check_console_token(self, ctxt: RequestContext, token: str, consume: bool = False) -> dict[str, Any] | None:
        return self.manager.console_tokens.check(token, consume)
