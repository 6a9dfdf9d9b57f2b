"""The compute agent's RPC interface (topic ``compute``, one server per host).

Version history:
  1.0 - build_and_run_instance, power_action, terminate_instance, console_output, rebuild_instance,
        resize_instance
  1.1 - stop_guest, receive_guest, drop_guest, start_guest (moves between hosts), snapshot_instance(rotation),
        external_event, shelve_instance
  1.2 - get_console, rescue_instance, unrescue_instance, trigger_crash_dump
"""

from __future__ import annotations

from typing import Any, ClassVar

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext

TOPIC = "compute"


class ComputeAgentAPI(rpc.RPCClient):
    TOPIC = TOPIC
    VERSION = "1.2"
    SINCE: ClassVar[dict[str, str]] = {
        **{method: "1.1" for method in ("snapshot_instance", "shelve_instance", "external_event", "stop_guest",
                                        "receive_guest", "drop_guest", "start_guest")},
        **{method: "1.2" for method in ("get_console", "rescue_instance", "unrescue_instance", "trigger_crash_dump")}}

    def build_and_run_instance(self, ctxt: RequestContext, host: str, instance: dict[str, Any]) -> None:
        self.prepare(server=host, version="1.0").cast(ctxt, "build_and_run_instance", instance=instance)

    def power_action(self, ctxt: RequestContext, host: str, uuid: str, action: str) -> None:
        """Carry out one of ``actions.POWER_ACTIONS`` (the API has already set its task_state)."""
        self.prepare(server=host, version="1.0").cast(ctxt, "power_action", uuid=uuid, action=action)

    def terminate_instance(self, ctxt: RequestContext, host: str, uuid: str) -> None:
        self.prepare(server=host, version="1.0").cast(ctxt, "terminate_instance", uuid=uuid)

    def resize_instance(self, ctxt: RequestContext, host: str, instance: dict[str, Any], revert: bool) -> None:
        """Apply ``instance['flavor']`` to the guest (the conductor has moved the allocation already)."""
        self.prepare(server=host, version="1.0").cast(ctxt, "resize_instance", instance=instance, revert=revert)

    def rebuild_instance(self, ctxt: RequestContext, host: str, instance: dict[str, Any]) -> None:
        """Recreate the guest from ``instance['image_ref']`` (the API has set task_state rebuilding)."""
        self.prepare(server=host, version="1.0").cast(ctxt, "rebuild_instance", instance=instance)

    def console_output(self, ctxt: RequestContext, host: str, uuid: str) -> str:
        return self.prepare(server=host, version="1.0").call(  # type: ignore[no-any-return]
            ctxt, "console_output", uuid=uuid)

    def snapshot_instance(self, ctxt: RequestContext, host: str, uuid: str, image_id: str,
                          rotation: dict[str, Any] | None = None) -> None:
        """Upload the guest's disk into image ``image_id`` (created, queued, by the API). With ``rotation``
        (``backup_type``, ``keep``), older backups of that type beyond ``keep`` are deleted after the upload."""
        self.check_can_send("snapshot_instance")
        self.prepare(server=host, version="1.1").cast(ctxt, "snapshot_instance", uuid=uuid, image_id=image_id,
                                                      rotation=rotation)

    def shelve_instance(self, ctxt: RequestContext, host: str, uuid: str, image_id: str) -> None:
        """Save the guest's disk into ``image_id``, then remove the guest and free its resources."""
        self.check_can_send("shelve_instance")
        self.prepare(server=host, version="1.1").cast(ctxt, "shelve_instance", uuid=uuid, image_id=image_id)

    def external_event(self, ctxt: RequestContext, host: str, event: dict[str, Any]) -> None:
        """An event from another service about one of this host's instances (os-server-external-events)."""
        self.check_can_send("external_event")
        self.prepare(server=host, version="1.1").cast(ctxt, "external_event", event=event)

    # Moves: the conductor drives each step and waits for it, so it can undo the steps done when one fails.

    def stop_guest(self, ctxt: RequestContext, host: str, uuid: str) -> None:
        """Power the guest off and keep it (the source of a cold migration, until it is confirmed)."""
        self.check_can_send("stop_guest")
        self.prepare(server=host, version="1.1").call(ctxt, "stop_guest", uuid=uuid)

    def receive_guest(self, ctxt: RequestContext, host: str, instance: dict[str, Any], running: bool) -> int:
        """Create the guest on this host (a move's destination); returns its power state."""
        self.check_can_send("receive_guest")
        return self.prepare(server=host, version="1.1").call(  # type: ignore[no-any-return]
            ctxt, "receive_guest", instance=instance, running=running)

    def drop_guest(self, ctxt: RequestContext, host: str, uuid: str) -> None:
        """Remove the guest from this host; the instance lives on elsewhere."""
        self.check_can_send("drop_guest")
        self.prepare(server=host, version="1.1").call(ctxt, "drop_guest", uuid=uuid)

    def start_guest(self, ctxt: RequestContext, host: str, uuid: str) -> int:
        """Power the kept guest on again (a reverted cold migration); returns its power state."""
        self.check_can_send("start_guest")
        return self.prepare(server=host, version="1.1").call(  # type: ignore[no-any-return]
            ctxt, "start_guest", uuid=uuid)

    def get_console(self, ctxt: RequestContext, host: str, uuid: str, kind: str) -> dict[str, Any]:
        """Where the guest's ``kind`` console (vnc, spice, serial) listens: {"host", "port",
        "internal_access_path"}; a remote error ``ConsoleUnavailable`` when the host offers none."""
        self.check_can_send("get_console")
        return self.prepare(server=host, version="1.2").call(  # type: ignore[no-any-return]
            ctxt, "get_console", uuid=uuid, kind=kind)

    def rescue_instance(self, ctxt: RequestContext, host: str, instance: dict[str, Any],
                        rescue_image: dict[str, Any]) -> None:
        """Boot the guest from ``rescue_image`` (``image_meta`` form; the API has set task_state rescuing)."""
        self.check_can_send("rescue_instance")
        self.prepare(server=host, version="1.2").cast(ctxt, "rescue_instance", instance=instance,
                                                      rescue_image=rescue_image)

    def unrescue_instance(self, ctxt: RequestContext, host: str, uuid: str) -> None:
        """Boot the rescued guest from its own disk again (the API has set task_state unrescuing)."""
        self.check_can_send("unrescue_instance")
        self.prepare(server=host, version="1.2").cast(ctxt, "unrescue_instance", uuid=uuid)

    def trigger_crash_dump(self, ctxt: RequestContext, host: str, uuid: str) -> None:
        """Inject an NMI into the guest."""
        self.check_can_send("trigger_crash_dump")
        self.prepare(server=host, version="1.2").cast(ctxt, "trigger_crash_dump", uuid=uuid)


class ComputeAgentEndpoint:
    target = oslo_messaging.Target(version="1.2")

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def build_and_run_instance(self, ctxt: RequestContext, instance: dict[str, Any]) -> None:
        self.manager.build_and_run_instance(ctxt, instance)

    def power_action(self, ctxt: RequestContext, uuid: str, action: str) -> None:
        self.manager.power_action(ctxt, uuid, action)

    def terminate_instance(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.terminate_instance(ctxt, uuid)

    def rebuild_instance(self, ctxt: RequestContext, instance: dict[str, Any]) -> None:
        self.manager.rebuild_instance(ctxt, instance)

    def resize_instance(self, ctxt: RequestContext, instance: dict[str, Any], revert: bool) -> None:
        self.manager.resize_instance(ctxt, instance, revert)

    def console_output(self, ctxt: RequestContext, uuid: str) -> str:
        return self.manager.console_output(uuid)  # type: ignore[no-any-return]

    def stop_guest(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.stop_guest(uuid)

    def receive_guest(self, ctxt: RequestContext, instance: dict[str, Any], running: bool) -> int:
        return self.manager.receive_guest(instance, running)  # type: ignore[no-any-return]

    def drop_guest(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.drop_guest(uuid)

    def start_guest(self, ctxt: RequestContext, uuid: str) -> int:
        return self.manager.start_guest(uuid)  # type: ignore[no-any-return]

    def snapshot_instance(self, ctxt: RequestContext, uuid: str, image_id: str,
                          rotation: dict[str, Any] | None = None) -> None:
        self.manager.snapshot_instance(ctxt, uuid, image_id, rotation)

    def external_event(self, ctxt: RequestContext, event: dict[str, Any]) -> None:
        self.manager.external_event(ctxt, event)

    def shelve_instance(self, ctxt: RequestContext, uuid: str, image_id: str) -> None:
        self.manager.shelve_instance(ctxt, uuid, image_id)

    def get_console(self, ctxt: RequestContext, uuid: str, kind: str) -> dict[str, Any]:
        return self.manager.get_console(uuid, kind)  # type: ignore[no-any-return]

    def rescue_instance(self, ctxt: RequestContext, instance: dict[str, Any], rescue_image: dict[str, Any]) -> None:
        self.manager.rescue_instance(ctxt, instance, rescue_image)

    def unrescue_instance(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.unrescue_instance(ctxt, uuid)

    def trigger_crash_dump(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.trigger_crash_dump(ctxt, uuid)
