"""os-server-external-events: other services (the network service first) telling servers' hosts what happened."""

from __future__ import annotations

import copy
from typing import Any

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.compute.core.servers import ServerCore

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
        """Hand each event to its server's host; each comes back with a ``code`` (200, 404 or 422)."""
        if not isinstance(events, list) or not events:
            raise exceptions.BadRequest("events must be a non-empty list.")
        checked = [_checked(e) for e in events]
        self.servers.agents.check_can_send("external_event")  # all or none: 409 while computes are capped below
        # The sender (a service user) speaks for servers of every project, as Nova's elevated context does.
        elevated = copy.copy(ctx)
        elevated.is_admin = True
        for event in checked:
            try:
                inst, _ = self.servers.get(elevated, event["server_uuid"])
            except exceptions.NotFound:
                event["code"] = 404
                continue
            if not inst.host:  # not placed yet: nobody to tell
                event["code"] = 422
                continue
            self.servers.agents.external_event(ctx, inst.host, event)
            event["code"] = 200
        return checked
