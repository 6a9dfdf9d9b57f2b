"""The compute agent's RPC interface (topic ``compute``, one server per host).

Version history:
  1.0 - build_and_run_instance, power_action, terminate_instance, console_output, rebuild_instance,
        resize_instance
  1.1 - stop_guest, receive_guest, drop_guest, start_guest (moves between hosts), snapshot_instance(rotation),
        external_event, shelve_instance
  1.2 - get_console, rescue_instance, unrescue_instance, trigger_crash_dump
  1.3 - get_diagnostics, set_admin_password, attach_volume, detach_volume (calls: hot-plug a volume's disk
        into the guest, unplug it)
  1.4 - build_and_run_instance(block_device_info): a server booted from a volume (its root disk is the
        volume's export)
  1.5 - extend_volume (a cast: grow the guest's disk of an attached volume the volume service extended, its
        ``volume-extended`` external event)
"""

from __future__ import annotations

from typing import Any, ClassVar

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext

TOPIC = "compute"
# What needs compute RPC 1.4 (``require_version`` names it in the 409 while computes are capped below).
BOOT_FROM_VOLUME = "build_and_run_instance with block_device_info (boot from volume)"


class ComputeAgentAPI(rpc.RPCClient):
    TOPIC = TOPIC
    VERSION = "1.5"
    SINCE: ClassVar[dict[str, str]] = {
        **{method: "1.1" for method in ("snapshot_instance", "shelve_instance", "external_event", "stop_guest",
                                        "receive_guest", "drop_guest", "start_guest")},
        **{method: "1.2" for method in ("get_console", "rescue_instance", "unrescue_instance", "trigger_crash_dump")},
        **{method: "1.3" for method in ("get_diagnostics", "set_admin_password", "attach_volume", "detach_volume")},
        "extend_volume": "1.5"}

    def build_and_run_instance(self, ctxt: RequestContext, host: str, instance: dict[str, Any],
                               block_device_info: dict[str, Any] | None = None) -> None:
        """Create and start the guest. ``block_device_info`` (Nova's shape: ``root_device_name`` and
        ``block_device_mapping``, each with ``connection_info``, ``mount_device``, ``boot_index``) gives a server
        booted from a volume its root disk; without it the 1.0 form is sent."""
        if block_device_info is None:
            self.prepare(server=host, version="1.0").cast(ctxt, "build_and_run_instance", instance=instance)
            return
        self.require_version("1.4", BOOT_FROM_VOLUME)
        self.prepare(server=host, version="1.4").cast(ctxt, "build_and_run_instance", instance=instance,
                                                      block_device_info=block_device_info)

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
        return self.prepare(server=host, version="1.0").call(
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
        return self.prepare(server=host, version="1.1").call(
            ctxt, "receive_guest", instance=instance, running=running)

    def drop_guest(self, ctxt: RequestContext, host: str, uuid: str) -> None:
        """Remove the guest from this host; the instance lives on elsewhere."""
        self.check_can_send("drop_guest")
        self.prepare(server=host, version="1.1").call(ctxt, "drop_guest", uuid=uuid)

    def start_guest(self, ctxt: RequestContext, host: str, uuid: str) -> int:
        """Power the kept guest on again (a reverted cold migration); returns its power state."""
        self.check_can_send("start_guest")
        return self.prepare(server=host, version="1.1").call(
            ctxt, "start_guest", uuid=uuid)

    def get_console(self, ctxt: RequestContext, host: str, uuid: str, kind: str) -> dict[str, Any]:
        """Where the guest's ``kind`` console (vnc, spice, serial) listens: {"host", "port",
        "internal_access_path"}; a remote error ``ConsoleUnavailable`` when the host offers none."""
        self.check_can_send("get_console")
        return self.prepare(server=host, version="1.2").call(
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

    def get_diagnostics(self, ctxt: RequestContext, host: str, uuid: str) -> dict[str, Any]:
        """The guest's diagnostics (``Diagnostics.to_dict()`` form), or {"error": why} when the host cannot
        read them."""
        self.check_can_send("get_diagnostics")
        return self.prepare(server=host, version="1.3").call(
            ctxt, "get_diagnostics", uuid=uuid)

    def set_admin_password(self, ctxt: RequestContext, host: str, instance: dict[str, Any],
                           password: str) -> dict[str, str] | None:
        """Set the guest's admin password and wait: None when set, else {"kind": "not_supported" | "failed",
        "message"} (the API set task_state updating_password; the agent clears it)."""
        self.check_can_send("set_admin_password")
        return self.prepare(server=host, version="1.3").call(
            ctxt, "set_admin_password", instance=instance, password=password)


    def attach_volume(self, ctxt: RequestContext, host: str, uuid: str, connection_info: dict[str, Any],
                      device: str) -> str:
        """Hot-plug the volume exported as ``connection_info`` (Cinder's) into the guest as ``device``
        (``/dev/vdb``) or the next free name; returns the device used once the guest has it (a remote
        ``InternalError`` when it could not)."""
        self.check_can_send("attach_volume")
        return self.prepare(server=host, version="1.3").call(
            ctxt, "attach_volume", uuid=uuid, connection_info=connection_info, device=device)

    def detach_volume(self, ctxt: RequestContext, host: str, uuid: str, device: str) -> None:
        """Unplug the guest's ``device``; returns when it is gone (a guest that lacks it is not an error)."""
        self.check_can_send("detach_volume")
        self.prepare(server=host, version="1.3").call(ctxt, "detach_volume", uuid=uuid, device=device)


    def extend_volume(self, ctxt: RequestContext, host: str, uuid: str, volume_id: str, device: str,
                      new_size: int) -> None:
        """Grow the guest's ``device`` (the disk of ``volume_id``) to ``new_size`` bytes, once the volume service
        has extended the volume (its ``volume-extended`` event); the agent ends the ``extend_volume`` action the
        API started."""
        self.check_can_send("extend_volume")
        self.prepare(server=host, version="1.5").cast(ctxt, "extend_volume", uuid=uuid, volume_id=volume_id,
                                                      device=device, new_size=new_size)


class ComputeAgentEndpoint:
    target = oslo_messaging.Target(version="1.5")

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def build_and_run_instance(self, ctxt: RequestContext, instance: dict[str, Any],
                               block_device_info: dict[str, Any] | None = None) -> None:
        self.manager.build_and_run_instance(ctxt, instance, block_device_info)

    def power_action(self, ctxt: RequestContext, uuid: str, action: str) -> None:
        self.manager.power_action(ctxt, uuid, action)

    def terminate_instance(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.terminate_instance(ctxt, uuid)

    def rebuild_instance(self, ctxt: RequestContext, instance: dict[str, Any]) -> None:
        self.manager.rebuild_instance(ctxt, instance)

    def resize_instance(self, ctxt: RequestContext, instance: dict[str, Any], revert: bool) -> None:
        self.manager.resize_instance(ctxt, instance, revert)

    def console_output(self, ctxt: RequestContext, uuid: str) -> str:
        return self.manager.console_output(uuid)

    def stop_guest(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.stop_guest(uuid)

    def receive_guest(self, ctxt: RequestContext, instance: dict[str, Any], running: bool) -> int:
        return self.manager.receive_guest(instance, running)

    def drop_guest(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.drop_guest(uuid)

    def start_guest(self, ctxt: RequestContext, uuid: str) -> int:
        return self.manager.start_guest(uuid)

    def snapshot_instance(self, ctxt: RequestContext, uuid: str, image_id: str,
                          rotation: dict[str, Any] | None = None) -> None:
        self.manager.snapshot_instance(ctxt, uuid, image_id, rotation)

    def external_event(self, ctxt: RequestContext, event: dict[str, Any]) -> None:
        self.manager.external_event(ctxt, event)

    def shelve_instance(self, ctxt: RequestContext, uuid: str, image_id: str) -> None:
        self.manager.shelve_instance(ctxt, uuid, image_id)

    def get_console(self, ctxt: RequestContext, uuid: str, kind: str) -> dict[str, Any]:
        return self.manager.get_console(uuid, kind)

    def rescue_instance(self, ctxt: RequestContext, instance: dict[str, Any], rescue_image: dict[str, Any]) -> None:
        self.manager.rescue_instance(ctxt, instance, rescue_image)

    def unrescue_instance(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.unrescue_instance(ctxt, uuid)

    def trigger_crash_dump(self, ctxt: RequestContext, uuid: str) -> None:
        self.manager.trigger_crash_dump(ctxt, uuid)

    def get_diagnostics(self, ctxt: RequestContext, uuid: str) -> dict[str, Any]:
        return self.manager.get_diagnostics(uuid)

    def set_admin_password(self, ctxt: RequestContext, instance: dict[str, Any], password: str) -> dict[str, str] | None:
        return self.manager.set_admin_password(ctxt, instance, password)

    def attach_volume(self, ctxt: RequestContext, uuid: str, connection_info: dict[str, Any], device: str) -> str:
        return self.manager.attach_volume(ctxt, uuid, connection_info, device)

    def detach_volume(self, ctxt: RequestContext, uuid: str, device: str) -> None:
        self.manager.detach_volume(ctxt, uuid, device)

    def extend_volume(self, ctxt: RequestContext, uuid: str, volume_id: str, device: str, new_size: int) -> None:
        self.manager.extend_volume(ctxt, uuid, volume_id, device, new_size)
