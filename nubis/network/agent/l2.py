"""Layer 2 on a host: one Linux bridge per network, VXLAN tunnels or a physical interface behind it,
and the guests' tap devices in it."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from nubis.network.agent.ip import CommandFailed, Netns

LOG = logging.getLogger(__name__)

BRIDGE_PREFIX = "brq"
VXLAN_PREFIX = "vxlan-"
FLOOD_MAC = "00:00:00:00:00:00"


def vxlan_name(vni: int) -> str:
    return f"{VXLAN_PREFIX}{vni}"


class L2:
    def __init__(self, host: Netns, tunnel_ip: str | None, tunnel_port: int, mappings: Mapping[str, str]) -> None:
        self.host = host
        self.tunnel_ip = tunnel_ip
        self.tunnel_port = tunnel_port
        self.mappings = dict(mappings)

    def apply(self, networks: Sequence[Mapping[str, Any]], links: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Make the host's bridges match ``networks``; returns {network_id: error} for those it could not wire."""
        failed: dict[str, str] = {}
        wanted = set()
        for net in networks:
            wanted.add(net["bridge"])
            try:
                self._network(net, links)
            except (CommandFailed, ValueError) as exc:
                LOG.error("Cannot wire network %s: %s", net["id"], exc)
                failed[net["id"]] = str(exc)
        for name, link in links.items():
            if name.startswith(BRIDGE_PREFIX) and name not in wanted and link.get("linkinfo", {}).get(
                    "info_kind") == "bridge":
                self._remove_bridge(name, links)
        return failed

    def _network(self, net: Mapping[str, Any], links: dict[str, dict[str, Any]]) -> None:
        bridge = net["bridge"]
        if bridge not in links:
            self.host.ip("link", "add", bridge, "type", "bridge")
            # No STP delay: a guest's first DHCP request must not be dropped while ports "learn".
            self.host.ip("link", "set", bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0")
        self.host.ip("link", "set", bridge, "mtu", str(net["mtu"]), "up")
        uplink = self._uplink(net, links)
        if uplink:
            self.host.ip("link", "set", uplink, "master", bridge, "up")

    def _uplink(self, net: Mapping[str, Any], links: dict[str, dict[str, Any]]) -> str | None:
        kind = net["network_type"]
        if kind == "vxlan":
            if net["peers"] and not self.tunnel_ip:
                raise ValueError("this vxlan network spans hosts: set [network_agent] tunnel_ip on this host")
            dev = vxlan_name(net["segmentation_id"])
            if dev not in links:
                # Without tunnel_ip (a single host) the device has no peers and sends nothing.
                local = ["local", self.tunnel_ip] if self.tunnel_ip else []
                self.host.ip("link", "add", dev, "type", "vxlan", "id", str(net["segmentation_id"]), *local,
                             "dstport", str(self.tunnel_port), "nolearning")
            self.host.ip("link", "set", dev, "mtu", str(net["mtu"]))
            self._peers(dev, net["peers"])
            return dev
        physnet = net["physical_network"]
        if physnet not in self.mappings:
            raise ValueError(f"physical network {physnet} has no interface here ([network_agent] bridge_mappings)")
        iface = self.mappings[physnet]
        if kind == "flat":
            return iface
        dev = f"{iface[:9]}.{net['segmentation_id']}"
        if dev not in links:  # needs the kernel's 8021q module
            self.host.ip("link", "add", "link", iface, "name", dev, "type", "vlan", "id", str(net["segmentation_id"]))
        return dev

    def _peers(self, dev: str, peers: Sequence[Mapping[str, Any]]) -> None:
        """Unicast flooding: broadcast and unknown frames go to every other host on the network."""
        out = self.host.exec("bridge", "-j", "fdb", "show", "dev", dev).strip()
        have = {(e.get("dst"), e.get("port", self.tunnel_port)) for e in (json.loads(out) if out else [])
                if e.get("mac") == FLOOD_MAC}
        want = {(p["ip"], p["port"]) for p in peers}
        for ip, port in want - have:
            self.host.exec("bridge", "fdb", "append", FLOOD_MAC, "dev", dev, "dst", ip, "port", str(port))
        for ip, port in have - want:
            self.host.exec("bridge", "fdb", "del", FLOOD_MAC, "dev", dev, "dst", str(ip), "port", str(port),
                           check=False)

    def _remove_bridge(self, bridge: str, links: dict[str, dict[str, Any]]) -> None:
        for name, link in links.items():
            if link.get("master") == bridge and name.startswith(VXLAN_PREFIX):
                self.host.ip("link", "del", name, check=False)
        self.host.ip("link", "del", bridge, check=False)

    def plug(self, tap: str, bridge: str, mtu: int, links: dict[str, dict[str, Any]]) -> bool:
        """Put a guest's tap into its network's bridge; False while the tap does not exist yet."""
        link = links.get(tap)
        if link is None:
            return False
        if link.get("master") != bridge:
            self.host.ip("link", "set", tap, "master", bridge)
        self.host.ip("link", "set", tap, "mtu", str(mtu), "up")
        return True
