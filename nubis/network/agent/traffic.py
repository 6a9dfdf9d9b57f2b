"""Guests' outbound traffic, read from their taps' byte counters and announced for metering.

What a guest sends arrives on the host side of its tap, so the tap's ``rx`` bytes (``ip -s link``, the
``/sys/class/net/<tap>/statistics/rx_bytes`` counter, read in the agent's host namespace) are the guest's
outbound bytes: Ceilometer's ``network.outgoing.bytes`` (it reads the same counter through libvirt, which names
it from the guest's side). Every ``[network_agent] traffic_interval`` seconds the agent sends, for each guest
port whose tap exists on its host, a ``network.outgoing.bytes`` notification with the cumulative counter; the
metering service turns the differences into outbound GB. The counter restarts at 0 when the tap is made again
(a guest restarted or moved): the consumer takes a smaller value as a restart.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from nubis.common import context, rpc
from nubis.network.agent.ip import Netns

LOG = logging.getLogger(__name__)
EVENT = "network.outgoing.bytes"


def outgoing_bytes(host: Netns) -> dict[str, int]:
    """Each ``tap*`` device's received bytes (its guest's outbound), from ``ip -j -s link`` in ``host``."""
    out = host.ip("-j", "-s", "link", "show").strip()
    counters = {}
    for link in json.loads(out) if out else []:
        name = link.get("ifname", "")
        stats = link.get("stats64") or link.get("stats") or {}
        if name.startswith("tap") and "rx" in stats:
            counters[name] = int(stats["rx"]["bytes"])
    return counters


class TrafficReporter:
    """Sends ``network.outgoing.bytes`` for the guest ports of one host, at most every ``interval`` seconds."""

    def __init__(self, host: Netns, notifier: rpc.Notifier, host_name: str, interval: float) -> None:
        self.host = host
        self.notifier = notifier
        self.host_name = host_name
        self.interval = interval
        self._next = 0.0

    def maybe_report(self, ports: list[Mapping[str, Any]], now: float | None = None) -> int:
        """Report the counters of ``ports`` (the host state's guest ports) if ``interval`` has passed; returns
        how many were sent. A port without a tap here (its guest is not running) is left out."""
        now = time.monotonic() if now is None else now
        if now < self._next:
            return 0
        self._next = now + self.interval
        counters = outgoing_bytes(self.host)
        ctx = context.admin_context()
        sent = 0
        for port in ports:
            counter = counters.get(str(port.get("tap")))
            if counter is None or not port.get("project_id"):
                continue
            self.notifier.info(ctx, EVENT, {"port_id": port["id"], "project_id": port["project_id"],
                                            "device_id": port.get("device_id") or "", "host": self.host_name,
                                            "tap": port["tap"], "bytes": counter})
            sent += 1
        return sent
