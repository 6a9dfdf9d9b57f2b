"""Running the Linux networking tools (iproute2, iptables, sysctl) in a given namespace.

``Netns(name)`` is one network stack: the host's (``name`` empty, or the
namespace that stands for a simulated host) or a DHCP/router namespace. Every
command raises ``CommandFailed`` with the tool's own message when it fails.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

LOG = logging.getLogger(__name__)


class CommandFailed(RuntimeError):
    def __init__(self, cmd: Sequence[str], code: int, stderr: str) -> None:
        super().__init__(f"{' '.join(cmd)} failed ({code}): {stderr.strip()}")
        self.stderr = stderr


def run(cmd: Sequence[str], stdin: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise CommandFailed(cmd, proc.returncode, proc.stderr)
    return proc.stdout


def namespaces() -> list[str]:
    out = run(["ip", "-j", "netns", "list"], check=False).strip()
    return [n["name"] for n in json.loads(out)] if out else []


class Netns:
    """One network stack; ``name`` empty means the one this process runs in."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def _prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name] if self.name else []

    def exec(self, *cmd: str, stdin: str | None = None, check: bool = True) -> str:
        return run([*self._prefix(), *cmd], stdin=stdin, check=check)

    def ip(self, *args: str, check: bool = True) -> str:
        return run(["ip", *(["-n", self.name] if self.name else []), *args], check=check)

    def exists(self) -> bool:
        return not self.name or self.name in namespaces()

    def create(self) -> None:
        if not self.exists():
            run(["ip", "netns", "add", self.name])
        self.ip("link", "set", "lo", "up")

    def delete(self) -> None:
        if self.name and self.exists():
            run(["ip", "netns", "delete", self.name])

    def links(self) -> dict[str, dict[str, Any]]:
        out = self.ip("-j", "-d", "link", "show").strip()
        return {link["ifname"]: link for link in json.loads(out)} if out else {}

    def addresses(self, dev: str) -> set[str]:
        out = self.ip("-j", "addr", "show", "dev", dev).strip()
        found = set()
        for link in json.loads(out) if out else []:
            for a in link.get("addr_info", []):
                if a.get("scope") != "link" or a["family"] == "inet":
                    found.add(f"{a['local']}/{a['prefixlen']}")
        return found

    def set_addresses(self, dev: str, wanted: Sequence[str]) -> None:
        have = self.addresses(dev)
        for cidr in have - set(wanted):
            self.ip("addr", "del", cidr, "dev", dev)
        for cidr in set(wanted) - have:
            self.ip("addr", "add", cidr, "dev", dev)

    def sysctl(self, key: str, value: str) -> None:
        self.exec("sysctl", "-q", "-w", f"{key}={value}")

    def plug_veth(self, inner: Netns, port: Mapping[str, Any], inside: str, bridge: str, mtu: int,
                  links: dict[str, dict[str, Any]]) -> None:
        """Join namespace ``inner`` to ``bridge`` of this stack for ``port`` (a DHCP or router port):
        ``tap<port>`` in the bridge, ``inside`` in ``inner`` carrying the port's MAC."""
        outside = f"tap{port['id'][:11]}"
        if outside not in links:
            inner.ip("link", "del", inside, check=False)  # a half-made pair from an interrupted run
            self.ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", inner.name)
        self.ip("link", "set", outside, "master", bridge, "mtu", str(mtu), "up")
        inner.ip("link", "set", inside, "address", port["mac"], "mtu", str(mtu), "up")
