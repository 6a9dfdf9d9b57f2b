"""Bandwidth limits on guests' taps with ``tc``, as Neutron's linuxbridge agent sets them.

Directions are the guest's: what it receives (``ingress``) leaves the host through the tap, so it is
shaped by a ``tbf`` root qdisc on the tap. What it sends (``egress``) enters the host on its tap; Neutron
polices it there (``police ... drop``), which needs the kernel's ``act_police``. Nubis redirects it instead
(``mirred``) from the tap's ingress qdisc to an IFB device of its own (``qos<tap id>``) and shapes it there
with ``tbf``: the same limit, with a queue rather than drops, and only ``ifb``, ``u32`` and ``mirred`` needed.
A burst of 0 means Neutron's default, 80% of the rate.
Each tap's applied limits are remembered, so a resync changes only what differs; an agent that starts
knows nothing yet and so sets (or clears) every tap once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from nubis.network.agent.ip import CommandFailed, Netns

LOG = logging.getLogger(__name__)

DEFAULT_BURST_PERCENT = 80
TBF_LATENCY_MS = 50  # Neutron's linuxbridge latency for the shaping queue
INGRESS_HANDLE = "ffff:"
IFB_PREFIX = "qos"


def ifb_name(tap: str) -> str:
    """The IFB device a tap's guest-egress traffic is shaped on (``tapXXXXXXXX-XX`` -> ``qosXXXXXXXX-XX``)."""
    return IFB_PREFIX + tap[3:]


def _burst_kbit(limit: Mapping[str, Any]) -> int:
    return int(limit.get("max_burst_kbps") or limit["max_kbps"] * DEFAULT_BURST_PERCENT / 100) or 1


def wanted(port: Mapping[str, Any]) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """``(egress, ingress)`` limits of a host_state port as ``(rate kbit/s, burst kbit)``, None for none."""
    limits = (port.get("qos") or {}).get("bandwidth_limit") or {}
    out: list[tuple[int, int] | None] = []
    for direction in ("egress", "ingress"):
        limit = limits.get(direction)
        out.append((int(limit["max_kbps"]), _burst_kbit(limit)) if limit and limit.get("max_kbps") else None)
    return out[0], out[1]


class Qos:
    def __init__(self, host: Netns) -> None:
        self.host = host
        self._applied: dict[str, tuple[tuple[int, int] | None, tuple[int, int] | None]] = {}

    def apply(self, ports: Sequence[Mapping[str, Any]], links: Mapping[str, Any]) -> None:
        """Make every existing tap of ``ports`` carry its limits; forget taps that are gone."""
        present = set()
        for port in ports:
            tap = port["tap"]
            if tap not in links:
                continue
            present.add(tap)
            limits = wanted(port)
            if self._applied.get(tap) == limits:
                continue
            try:
                self._egress(tap, limits[0])
                self._ingress(tap, limits[1])
                self._applied[tap] = limits
                LOG.info("QoS on %s: egress %s, ingress %s (kbit/s, burst kbit)", tap, *limits)
            except CommandFailed as exc:
                LOG.error("Cannot set QoS on %s: %s", tap, exc)
                self._applied.pop(tap, None)  # tried again next round
        for tap in set(self._applied) - present:
            del self._applied[tap]
        for name, link in links.items():  # IFBs of taps that are gone (the guest left or was deleted)
            if name.startswith(IFB_PREFIX) and link.get("linkinfo", {}).get("info_kind") == "ifb" and \
                    "tap" + name[len(IFB_PREFIX):] not in present:
                self.host.ip("link", "del", name, check=False)

    def _egress(self, tap: str, limit: tuple[int, int] | None) -> None:
        """The guest's egress: redirect what enters through its tap to its IFB, and shape it there."""
        ifb = ifb_name(tap)
        if limit is None:
            self.host.exec("tc", "qdisc", "del", "dev", tap, "ingress", check=False)
            self.host.ip("link", "del", ifb, check=False)
            return
        rate, burst = limit
        if not self.host.exec("ip", "-o", "link", "show", "dev", ifb, check=False).strip():
            self.host.ip("link", "add", ifb, "type", "ifb")
        self.host.ip("link", "set", ifb, "up")
        self.host.exec("tc", "qdisc", "replace", "dev", ifb, "root", "tbf", "rate", f"{rate}kbit",
                       "latency", f"{TBF_LATENCY_MS}ms", "burst", f"{burst}kbit")
        if "ingress" not in self.host.exec("tc", "qdisc", "show", "dev", tap, "ingress"):
            self.host.exec("tc", "qdisc", "add", "dev", tap, "ingress")
            self.host.exec("tc", "filter", "add", "dev", tap, "parent", INGRESS_HANDLE, "protocol", "all",
                           "prio", "49", "u32", "match", "u32", "0", "0", "action", "mirred", "egress",
                           "redirect", "dev", ifb)

    def _ingress(self, tap: str, limit: tuple[int, int] | None) -> None:
        """The guest's ingress: shape what leaves through its tap."""
        if limit is None:
            self.host.exec("tc", "qdisc", "del", "dev", tap, "root", check=False)
            return
        rate, burst = limit
        self.host.exec("tc", "qdisc", "replace", "dev", tap, "root", "tbf", "rate", f"{rate}kbit",
                       "latency", f"{TBF_LATENCY_MS}ms", "burst", f"{burst}kbit")
