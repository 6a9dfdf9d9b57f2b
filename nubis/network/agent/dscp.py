"""DSCP marking of what guests send, with iptables' ``DSCP`` target, as Neutron's linuxbridge agent does.

A port whose effective QoS policy has a ``dscp_marking`` rule gets, in the ``mangle`` table of both address
families, a rule in ``nubis-qos-dscp`` (jumped to from ``POSTROUTING``) that rewrites the DSCP field of
every packet entering the host from its tap and crossing the bridge (``-m physdev --physdev-in <tap>
--physdev-is-bridged``). Bridged frames only reach iptables with ``net.bridge.bridge-nf-call-ip[6]tables``
on, so it is switched on while any port has a mark. The kernel needs ``xt_DSCP`` and ``xt_physdev``.
The chain is replaced at once with ``iptables-restore --noflush`` when the set of marks changes (a rule,
a policy or a port changed, or a port went) and removed, with its jump, when no port has a mark left.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from nubis.network.agent.ip import CommandFailed, Netns

LOG = logging.getLogger(__name__)

CHAIN = "nubis-qos-dscp"
TABLE = "mangle"
HOOK = "POSTROUTING"  # where Neutron's linuxbridge agent jumps to its per-port DSCP chains
TOOLS = ("iptables", "ip6tables")


def marks(ports: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """``{tap: DSCP mark}`` of the host_state ports whose effective policy has a ``dscp_marking`` rule."""
    out = {}
    for port in ports:
        mark = (port.get("qos") or {}).get("dscp_mark")
        if mark is not None:
            out[port["tap"]] = int(mark)
    return out


def rules(wanted: Mapping[str, int]) -> list[str]:
    """The rule specs of ``nubis-qos-dscp`` for ``{tap: mark}``, one per tap, in tap order (the same for
    both address families: ``--set-dscp`` takes the 6-bit code point, not the TOS byte)."""
    return [f"-m physdev --physdev-in {tap} --physdev-is-bridged -j DSCP --set-dscp {mark:#04x}"
            for tap, mark in sorted(wanted.items())]


class Dscp:
    def __init__(self, host: Netns) -> None:
        self.host = host
        self._applied: dict[str, int] | None = None  # None: not known yet, so the first apply sets or clears

    def apply(self, ports: Sequence[Mapping[str, Any]]) -> None:
        """Make the host's DSCP rules those of ``ports``; a failure is logged and retried next round."""
        wanted = marks(ports)
        if wanted == self._applied:
            return
        try:
            if wanted:
                self._set(rules(wanted))
            else:
                self.remove_all()
            self._applied = wanted
            LOG.info("DSCP marks: %s", wanted or "none")
        except CommandFailed as exc:
            LOG.error("Cannot set DSCP marks %s: %s", wanted, exc)
            self._applied = None

    def _set(self, specs: list[str]) -> None:
        self.host.sysctl("net.bridge.bridge-nf-call-iptables", "1")
        self.host.sysctl("net.bridge.bridge-nf-call-ip6tables", "1")
        for tool in TOOLS:
            # ``:chain`` in a --noflush restore creates the chain or empties it, in the same commit as the rules.
            doc = [f"*{TABLE}", f":{CHAIN} - [0:0]", *(f"-A {CHAIN} {spec}" for spec in specs), "COMMIT\n"]
            self.host.exec(f"{tool}-restore", "--noflush", stdin="\n".join(doc))
            if not self._has_jump(tool):
                self.host.exec(tool, "-t", TABLE, "-A", HOOK, "-j", CHAIN)

    def _has_jump(self, tool: str) -> bool:
        return f"-A {HOOK} -j {CHAIN}" in self.host.exec(tool, "-t", TABLE, "-S", HOOK)

    def remove_all(self) -> None:
        """Remove the chain and its jump from both families' mangle tables (nothing if they are absent)."""
        for tool in TOOLS:
            while self._has_jump(tool):
                self.host.exec(tool, "-t", TABLE, "-D", HOOK, "-j", CHAIN)
            self.host.exec(tool, "-t", TABLE, "-F", CHAIN, check=False)
            self.host.exec(tool, "-t", TABLE, "-X", CHAIN, check=False)
