"""Routers: one ``qrouter-<id>`` namespace each, with an interface on every attached network,
a gateway on the external network, SNAT, and DNAT/SNAT for floating IPs."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

from nubis.network.agent.ip import CommandFailed, Netns, namespaces

LOG = logging.getLogger(__name__)

NS_PREFIX = "qrouter-"


def namespace(router_id: str, host_prefix: str = "") -> str:
    """``qrouter-<router>``; simulated hosts sharing a machine put their own name first."""
    return f"{host_prefix}{NS_PREFIX}{router_id}"


def router_ports(router: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The router's interfaces and its gateway port, if it has one."""
    return [*router["interfaces"], *([router["gateway"]] if router.get("gateway") else [])]


def nat_table(router: Mapping[str, Any], gateway_dev: str | None) -> str:
    """The router's whole nat table: floating IPs first, then SNAT of everything else leaving the gateway."""
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":POSTROUTING ACCEPT [0:0]"]
    gateway = router.get("gateway")
    if gateway_dev and gateway:
        for fip in router["floating_ips"]:
            lines.append(f"-A PREROUTING -d {fip['floating_ip']}/32 -j DNAT --to-destination {fip['fixed_ip']}")
            lines.append(f"-A OUTPUT -d {fip['floating_ip']}/32 -j DNAT --to-destination {fip['fixed_ip']}")
            lines.append(f"-A POSTROUTING -s {fip['fixed_ip']}/32 -o {gateway_dev} -j SNAT "
                         f"--to-source {fip['floating_ip']}")
        v4 = [c.split("/")[0] for c in gateway["cidrs"] if ":" not in c]
        if router["enable_snat"] and v4:
            lines.append(f"-A POSTROUTING -o {gateway_dev} -j SNAT --to-source {v4[0]}")
    lines.append("COMMIT\n")
    return "\n".join(lines)


class L3:
    def __init__(self, host: Netns, state_dir: str) -> None:
        self.host = host
        self.prefix = f"{host.name}-" if host.name else ""
        self.state_dir = os.path.join(state_dir, "routers")

    def apply(self, routers: Sequence[Mapping[str, Any]], networks: Sequence[Mapping[str, Any]],
              links: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Wire every router; returns the statuses of their ports."""
        mtu = {n["id"]: n["mtu"] for n in networks}
        statuses: dict[str, str] = {}
        for router in routers:
            ports = router_ports(router)
            try:
                self._router(router, mtu, links)
                statuses.update({p["id"]: "ACTIVE" for p in ports if p["network_id"] in mtu})
            except (CommandFailed, KeyError) as exc:
                LOG.error("Router %s failed: %s", router["id"], exc)
                statuses.update({p["id"]: "DOWN" for p in ports})
        wanted = {namespace(r["id"], self.prefix) for r in routers}
        mine = self.prefix + NS_PREFIX
        for ns in namespaces():
            if ns.startswith(mine) and ns not in wanted and os.path.isdir(os.path.join(self.state_dir, ns[len(mine):])):
                self.remove(ns[len(mine):])
        return statuses

    def _router(self, router: Mapping[str, Any], mtu: Mapping[str, int], links: dict[str, dict[str, Any]]) -> None:
        os.makedirs(os.path.join(self.state_dir, router["id"]), mode=0o700, exist_ok=True)
        ns = Netns(namespace(router["id"], self.prefix))
        ns.create()
        ns.sysctl("net.ipv4.ip_forward", "1")
        ns_links = ns.links()
        wanted_devs = set()
        for port in router["interfaces"]:
            if port["network_id"] not in mtu:
                continue
            dev = f"qr-{port['id'][:11]}"
            wanted_devs.add(dev)
            self.host.plug_veth(ns, port, dev, port["bridge"], mtu[port["network_id"]], links)
            ns.set_addresses(dev, port["cidrs"])
        gateway_dev = None
        gateway = router.get("gateway")
        if gateway and gateway["network_id"] in mtu:
            gateway_dev = f"qg-{gateway['id'][:11]}"
            wanted_devs.add(gateway_dev)
            self.host.plug_veth(ns, gateway, gateway_dev, gateway["bridge"], mtu[gateway["network_id"]], links)
            floating = [f"{f['floating_ip']}/32" for f in router["floating_ips"]]
            ns.set_addresses(gateway_dev, [*gateway["cidrs"], *floating])
            if gateway["gateways"]:
                ns.ip("route", "replace", "default", "via", gateway["gateways"][0], "dev", gateway_dev)
        for dev in ns_links:
            if dev.startswith(("qr-", "qg-")) and dev not in wanted_devs:
                ns.ip("link", "del", dev, check=False)
        self._routes(ns, router["routes"])
        ns.exec("iptables-restore", stdin=nat_table(router, gateway_dev))

    @staticmethod
    def _routes(ns: Netns, routes: Sequence[Mapping[str, str]]) -> None:
        out = ns.ip("-j", "route", "show", "proto", "static").strip()
        have = {(r["dst"], r.get("gateway")) for r in (json.loads(out) if out else [])}
        want = {(r["destination"], r["nexthop"]) for r in routes}
        for dst, via in have - want:
            ns.ip("route", "del", dst, "via", str(via), check=False)
        for dst, via in want - have:
            ns.ip("route", "replace", dst, "via", via, "proto", "static")

    def remove(self, router_id: str) -> None:
        Netns(namespace(router_id, self.prefix)).delete()
        shutil.rmtree(os.path.join(self.state_dir, router_id), ignore_errors=True)
