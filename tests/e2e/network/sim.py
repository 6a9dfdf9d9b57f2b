"""Simulated hosts and guests in network namespaces, for the data plane's end-to-end tests.

Each simulated host is a namespace an agent uses as its host network stack
(``[network_agent] host_namespace``); the hosts reach each other over a
veth "underlay". A guest is a namespace whose ``eth0`` is one end of a veth
pair; the other end, named like the port's tap, appears in its host's
namespace just as a hypervisor's tap would. Everything is named with the
test's prefix and removed afterwards.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence

from tools import testimage


def sh(*cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def in_ns(ns: str, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return sh("ip", "netns", "exec", ns, *cmd, check=check, timeout=timeout)


def add_ns(name: str) -> None:
    sh("ip", "netns", "add", name)
    sh("ip", "-n", name, "link", "set", "lo", "up")


def delete_ns(name: str) -> None:
    sh("ip", "netns", "delete", name, check=False)


def link_pair(ns_a: str, dev_a: str, ns_b: str, dev_b: str, cidr_a: str | None = None,
              cidr_b: str | None = None) -> None:
    """A veth pair between two namespaces, both ends up."""
    sh("ip", "link", "add", "nbt-tmp-a", "type", "veth", "peer", "name", "nbt-tmp-b")
    sh("ip", "link", "set", "nbt-tmp-a", "netns", ns_a, "name", dev_a)
    sh("ip", "link", "set", "nbt-tmp-b", "netns", ns_b, "name", dev_b)
    for ns, dev, cidr in ((ns_a, dev_a, cidr_a), (ns_b, dev_b, cidr_b)):
        if cidr:
            sh("ip", "-n", ns, "addr", "add", cidr, "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")


class Guest:
    """A namespace standing for a VM whose NIC is plugged into ``host_ns`` as the port's tap."""

    def __init__(self, name: str, host_ns: str, tap: str, mac: str, workdir: str) -> None:
        self.name = name
        add_ns(name)
        sh("ip", "link", "add", "nbt-tmp-g", "type", "veth", "peer", "name", "nbt-tmp-t")
        sh("ip", "link", "set", "nbt-tmp-g", "netns", name, "name", "eth0")
        sh("ip", "-n", name, "link", "set", "eth0", "address", mac, "up")
        # The tap side appears in the host last, as a hypervisor's tap does once the guest starts.
        sh("ip", "link", "set", "nbt-tmp-t", "netns", host_ns, "name", tap)
        self.script = os.path.join(workdir, "udhcpc.sh")
        if not os.path.exists(self.script):
            with open(self.script, "w") as f:
                f.write(testimage.UDHCPC)  # the same lease handling as the test image's guests
            os.chmod(self.script, 0o755)

    def dhcp(self, timeout: float = 30) -> str:
        """Run a DHCP client until it gets a lease; the address it was given."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = in_ns(self.name, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "3", "-T", "1", "-O", "staticroutes",
                         "-s", self.script, check=False)
            if proc.returncode == 0:
                return self.address()
        raise AssertionError(f"{self.name} got no DHCP lease in {timeout}s")

    def address(self) -> str:
        out = in_ns(self.name, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout.split()
        return out[out.index("inet") + 1].split("/")[0] if "inet" in out else ""

    def ping(self, target: str, count: int = 1, source: str | None = None, timeout: int = 2) -> bool:
        extra: Sequence[str] = ("-I", source) if source else ()
        return in_ns(self.name, "busybox", "ping", "-c", str(count), "-W", str(timeout), *extra, target,
                     check=False).returncode == 0

    def can_reach(self, target: str, attempts: int = 10) -> bool:
        """True once a ping gets through (ARP and the first packets may take a moment)."""
        return any(self.ping(target) for _ in range(attempts))

    def delete(self) -> None:
        delete_ns(self.name)
