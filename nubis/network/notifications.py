"""The network service's notifications, in Neutron's shape: ``<resource>.<action>.end``.

Neutron sends ``floatingip.create.end`` with ``{"floatingip": {...}}`` and ``floatingip.delete.end`` with
``{"floatingip_id": id}``; so does Nubis, for floating IPs, routers (their gateway is in the router) and
ports, on the versioned-notifications topic, after the change is committed. Consumers (the metering
service) take the time of the change from the notification's timestamp.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from nubis.common import context, rpc

LOG = logging.getLogger(__name__)

NOTIFIED = frozenset({"floatingip", "router", "port"})


def listener(notifier: rpc.Notifier) -> Callable[[str, Mapping[str, Any]], None]:
    """A ``NetworkCore`` listener that sends ``<member>.<create|update|delete>.end`` for ``NOTIFIED`` members."""

    def send(event: str, payload: Mapping[str, Any]) -> None:
        member, _, action = event.partition(".")
        if member not in NOTIFIED or action not in ("create", "update", "delete"):
            return
        body = {f"{member}_id": payload.get("id")} if action == "delete" else {member: dict(payload)}
        ctx = context.current() or context.admin_context()
        try:
            notifier.info(ctx, f"{member}.{action}.end", body)
        except Exception:  # noqa: BLE001 - the API call succeeded; consumers audit what they miss
            LOG.exception("Could not send %s.%s.end", member, action)

    return send
