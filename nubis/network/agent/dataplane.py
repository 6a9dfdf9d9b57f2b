"""How a host's state becomes real: the Linux data plane, or none at all.

``apply(state)`` makes the host match ``state`` (as the network service's
``host_state`` describes it) and returns the status of every port it is
responsible for; ``taps()`` tells which guest taps exist, so the agent can
notice a guest appearing without asking the server.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, Protocol

from nubis.network.agent import dhcp, dscp, firewall, l2, l3, qos
from nubis.network.agent.ip import CommandFailed, Netns
from nubis.network.agent.metadata_proxy import MetadataProxies

LOG = logging.getLogger(__name__)


def host_ports(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every port a host's state makes the host responsible for: guests', DHCP and router ports."""
    return [*state["ports"], *state["dhcp_ports"], *(p for r in state["routers"] for p in l3.router_ports(r))]


class DataPlane(Protocol):
    def apply(self, state: Mapping[str, Any]) -> dict[str, str]: ...

    def taps(self) -> set[str]: ...

    def stop(self) -> None: ...


class NoopDataPlane:
    """For hosts whose guests are fake: bound ports count as wired at once."""

    def apply(self, state: Mapping[str, Any]) -> dict[str, str]:
        return {p["id"]: "ACTIVE" if p["admin_state_up"] else "DOWN" for p in host_ports(state)}

    def taps(self) -> set[str]:
        return set()

    def stop(self) -> None:
        pass


class LinuxDataPlane:
    def __init__(self, host: Netns, state_dir: str, tunnel_ip: str | None, tunnel_port: int,
                 mappings: Mapping[str, str], lease: int, proxies: MetadataProxies) -> None:
        self.host = host
        self.state_dir = state_dir
        self.proxies = proxies
        self.l2 = l2.L2(host, tunnel_ip, tunnel_port, mappings)
        self.dhcp = dhcp.Dhcp(host, state_dir, lease, proxies)
        self.firewall = firewall.Firewall(host)
        self.l3 = l3.L3(host, state_dir)
        self.qos = qos.Qos(host)
        self.dscp = dscp.Dscp(host)
        os.makedirs(state_dir, mode=0o700, exist_ok=True)

    def taps(self) -> set[str]:
        return {name for name in self.host.links() if name.startswith("tap")}

    def apply(self, state: Mapping[str, Any]) -> dict[str, str]:
        statuses: dict[str, str] = {}
        try:
            # Rules first: they name taps, so they hold before a tap joins its bridge.
            self.firewall.apply(state["ports"], state["security_groups"])
            guarded = True
        except CommandFailed as exc:
            LOG.error("Security group rules could not be applied: %s", exc)
            guarded = False
        links = self.host.links()
        failed = self.l2.apply(state["networks"], links)
        links = self.host.links()
        mtu = {n["id"]: n["mtu"] for n in state["networks"]}
        for port in state["ports"]:
            ok = False
            if guarded and port["network_id"] in mtu and port["network_id"] not in failed and port["admin_state_up"]:
                try:
                    ok = self.l2.plug(port["tap"], port["bridge"], mtu[port["network_id"]], links)
                except CommandFailed as exc:
                    LOG.error("Cannot plug port %s: %s", port["id"], exc)
            statuses[port["id"]] = "ACTIVE" if ok else "DOWN"
        self.qos.apply(state["ports"], links)
        self.dscp.apply(state["ports"])
        statuses.update(self.dhcp.apply(state["networks"], state["dhcp_ports"], links))
        statuses.update(self.l3.apply(state["routers"], state["networks"], links))
        return statuses

    def stop(self) -> None:
        self.proxies.stop()

    def teardown(self) -> None:
        """Remove everything this agent built on the host (tests, and hosts leaving the cloud)."""
        links = self.host.links()
        self.dhcp.apply([], [], links)
        self.l3.apply([], [], links)
        self.firewall.remove_all()
        self.dscp.remove_all()
        self.l2.apply([], self.host.links())
        self.proxies.stop()
