"""os-server-external-events: other services (the network service first) telling servers' hosts what happened."""

from __future__ import annotations

import copy
import logging
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.compute.core.servers import ServerCore
from nubis.compute.db.models import BlockDeviceMapping

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3
VOLUME_EXTENDED = "volume-extended"

NAMES = {"network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted",
         "volume-extended", "power-update", "accelerator-request-bound"}
STATUSES = {"completed", "failed", "in-progress"}


def _checked(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or not {"name", "server_uuid"} <= set(event) or \
            set(event) - {"name", "server_uuid", "status", "tag"}:
        raise exceptions.BadRequest("Each event needs name and server_uuid (status and tag optional), nothing else.")
    if event["name"] not in NAMES:
        raise exceptions.BadRequest(f"Invalid event name {event['name']!r}: one of {', '.join(sorted(NAMES))}.")
    status = event.get("status", "completed")
    if status not in STATUSES:
        raise exceptions.BadRequest(f"Invalid event status {status!r}: one of {', '.join(sorted(STATUSES))}.")
    if event["name"] == "power-update" and event.get("tag") not in ("POWER_ON", "POWER_OFF"):
        raise exceptions.BadRequest("A power-update event needs tag POWER_ON or POWER_OFF.")
    checked = {"name": event["name"], "server_uuid": event["server_uuid"], "status": status}
    if event.get("tag") is not None:
        checked["tag"] = event["tag"]  # Nova echoes a tag only when the event has one
    return checked


class ExternalEvents:
    def __init__(self, servers: ServerCore) -> None:
        self.servers = servers

    def deliver(self, ctx: RequestContext, events: Any) -> list[dict[str, Any]]:
        """Hand each event to its server's host; each comes back with a ``code`` (200, or 400, 404, 422 and
        status ``failed`` for one that was not handed on, as Nova's)."""
        if not isinstance(events, list) or not events:
            raise exceptions.BadRequest("events must be a non-empty list.")
        checked = [_checked(e) for e in events]
        self.servers.agents.check_can_send("external_event")  # all or none: 409 while computes are capped below
        if any(e["name"] == VOLUME_EXTENDED for e in checked):
            self.servers.agents.check_can_send("extend_volume")
        # The sender (a service user) speaks for servers of every project, as Nova's elevated context does.
        elevated = copy.copy(ctx)
        elevated.is_admin = True
        for event in checked:
            try:
                inst, _ = self.servers.get(elevated, event["server_uuid"])
            except exceptions.NotFound:
                event.update(code=404, status="failed")
                continue
            if event["name"] == VOLUME_EXTENDED and not event.get("tag"):
                event.update(code=400, status="failed")  # Nova's: the tag names the volume
                continue
            if not inst.host:  # not placed yet (or shelved-offloaded): nobody to tell
                event.update(code=422, status="failed")
                continue
            if event["name"] == VOLUME_EXTENDED:
                self._volume_extended(ctx, inst.host, event)
                continue
            self.servers.agents.external_event(ctx, inst.host, event)
            event["code"] = 200
        return checked

    def _volume_extended(self, ctx: RequestContext, host: str, event: dict[str, Any]) -> None:
        """The volume ``tag`` of the server grew: its host grows the guest's disk to the volume's new size (read
        from the volume service as the sender, as Nova's compute reads it from Cinder). 422 when the volume is
        not attached to the server or cannot be read; else an ``extend_volume`` action the agent ends."""
        uuid, volume_id = event["server_uuid"], event["tag"]
        with self.servers.db.reader() as s:
            device = s.scalar(sa.select(BlockDeviceMapping.device_name).where(
                BlockDeviceMapping.instance_uuid == uuid, BlockDeviceMapping.volume_id == volume_id))
        if device is None or self.servers.volumes is None:
            LOG.info("volume-extended for %s: volume %s is not attached to it", uuid, volume_id)
            event.update(code=422, status="failed")
            return
        try:
            size = int(self.servers.volumes.get_volume(ctx, volume_id)["size"])
        except (exceptions.NotFound, exceptions.Forbidden, exceptions.BadRequest,
                exceptions.ServiceUnavailable) as exc:
            LOG.warning("volume-extended for %s: could not read volume %s: %s", uuid, volume_id, exc)
            event.update(code=422, status="failed")
            return
        with self.servers.db.writer() as s:
            self.servers.instances.start_action(s, uuid, "extend_volume", ctx)
        self.servers.agents.extend_volume(ctx, host, uuid, volume_id, device, size * GiB)
        event["code"] = 200
