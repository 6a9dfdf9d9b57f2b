"""What the network service tells each host's agent, and what the agents report back.

A host's agent asks for its whole state (``host_state``) whenever something
changed; the answer is everything it must wire: the networks it needs (with the
VXLAN peers that also need them), the ports bound to it with their security
groups, its DHCP ports (one per network it hosts guests on, created here on
demand), and, on the host that runs routers, every router. Agents compare it
with what the kernel has and change only the difference.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types
from nubis.network.core import ipam
from nubis.network.core import ports as ports_core
from nubis.network.core import routers as routers_core
from nubis.network.core.common import NetworkCoreHandle
from nubis.network.db import models

LOG = logging.getLogger(__name__)

DHCP_OWNER = "network:dhcp"
COMPUTE_PREFIX = "compute:"
# Sends os-server-external-events to compute: [{"name", "server_uuid", "tag", "status"}].
EventSender = Callable[[list[dict[str, str]]], None]


def dhcp_device_id(host: str) -> str:
    return f"dhcp-{host}"


class HostSync:
    def __init__(self, core: NetworkCoreHandle, send_events: EventSender | None = None) -> None:
        self.core = core
        self.send_events = send_events

    # -- agents ---------------------------------------------------------------------------------
    def report_state(self, host: str, configurations: dict[str, Any], starting: bool) -> str:
        return self.core.agents.report(host, configurations, starting)

    def _alive_agents(self, s: orm.Session) -> dict[str, dict[str, Any]]:
        since = types.utcnow() - datetime.timedelta(seconds=self.core.conf.network.agent_down_time)
        rows = s.scalars(sa.select(models.Agent).where(models.Agent.heartbeat_timestamp >= since,
                                                       models.Agent.admin_state_up.is_(True)))
        return {a.host: dict(a.configurations or {}) for a in rows}

    @staticmethod
    def l3_host(agents: dict[str, dict[str, Any]]) -> str | None:
        """The host that runs every router: the first (by name) live agent offering L3."""
        hosts = sorted(h for h, c in agents.items() if c.get("l3"))
        return hosts[0] if hosts else None

    # -- host state -----------------------------------------------------------------------------
    def host_state(self, host: str) -> dict[str, Any]:
        with self.core.db.writer() as s:
            agents = self._alive_agents(s)
            config = agents.get(host, {})
            routers: list[models.Router] = []
            if self.l3_host(agents) == host:
                routers = list(s.scalars(sa.select(models.Router)))
                self._bind_router_ports(s, host, [r.id for r in routers])
            bound = list(s.scalars(sa.select(models.Port).where(models.Port.binding_host_id == host,
                                                                models.Port.device_owner != DHCP_OWNER)))
            guest_networks = {p.network_id for p in bound if not p.device_owner.startswith("network:")}
            dhcp_ports = self._dhcp_ports(s, host, guest_networks if config.get("dhcp", True) else set())
            needed = {p.network_id for p in bound} | {p.network_id for p in dhcp_ports}
            state: dict[str, Any] = {
                "host": host,
                "networks": self._networks(s, host, needed, agents),
                "ports": [self._port(s, p) for p in bound if not p.device_owner.startswith("network:")],
                "dhcp_ports": [self._port(s, p) for p in dhcp_ports],
                "routers": [self._router(s, r) for r in routers],
            }
            state["security_groups"] = self._security_groups(s, [p for p in bound if p.port_security_enabled])
            return state

    def _bind_router_ports(self, s: orm.Session, host: str, router_ids: Sequence[str]) -> None:
        if router_ids:
            s.execute(sa.update(models.Port).where(
                models.Port.device_id.in_(list(router_ids)),
                models.Port.device_owner.in_([routers_core.INTERFACE, routers_core.GATEWAY]),
                models.Port.binding_host_id != host).values(binding_host_id=host, status="DOWN"))

    def _dhcp_ports(self, s: orm.Session, host: str, networks: set[str]) -> list[models.Port]:
        """One DHCP port per network with a DHCP-enabled subnet among ``networks``; stale ones go."""
        existing = {p.network_id: p for p in s.scalars(sa.select(models.Port).where(
            models.Port.device_owner == DHCP_OWNER, models.Port.device_id == dhcp_device_id(host)))}
        with_dhcp = set(s.scalars(sa.select(models.Subnet.network_id).where(
            models.Subnet.network_id.in_(list(networks)), models.Subnet.enable_dhcp.is_(True)))) if networks else set()
        for network_id, port in list(existing.items()):
            if network_id not in with_dhcp:
                self.core.ports.remove(s, port.id)
                del existing[network_id]
        for port in existing.values():
            self._complete_dhcp_addresses(s, port)
        for network_id in sorted(with_dhcp - set(existing)):
            net = s.get(models.Network, network_id)
            assert net is not None
            view = self.core.ports.create_in(s, self.core.internal_caller(), net.project_id, {
                "network_id": network_id, "device_owner": DHCP_OWNER, "device_id": dhcp_device_id(host),
                "name": "", "binding:host_id": host,
                "fixed_ips": [{"subnet_id": sid} for sid in s.scalars(sa.select(models.Subnet.id).where(
                    models.Subnet.network_id == network_id, models.Subnet.enable_dhcp.is_(True)))]})
            made = s.get(models.Port, view["id"])
            assert made is not None
            existing[network_id] = made
        return list(existing.values())

    def _complete_dhcp_addresses(self, s: orm.Session, port: models.Port) -> None:
        """A subnet added after the DHCP port was made needs an address of the port too."""
        have = set(s.scalars(sa.select(models.IPAllocation.subnet_id).where(models.IPAllocation.port_id == port.id)))
        for subnet in s.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == port.network_id,
                                                               models.Subnet.enable_dhcp.is_(True))):
            if subnet.id not in have:
                ipam.allocate(s, subnet, port)

    def _networks(self, s: orm.Session, host: str, needed: set[str],
                  agents: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        if not needed:
            return []
        hosts_of: dict[str, set[str]] = {}
        for network_id, other in s.execute(sa.select(models.Port.network_id, models.Port.binding_host_id).where(
                models.Port.network_id.in_(list(needed)), models.Port.binding_host_id != "").distinct()):
            hosts_of.setdefault(network_id, set()).add(other)
        out = []
        for net in s.scalars(sa.select(models.Network).where(models.Network.id.in_(list(needed)))):
            peers = sorted({(agents[h].get("tunnel_ip"), agents[h].get("tunnel_port", 4789))
                            for h in hosts_of.get(net.id, set()) - {host} if h in agents and agents[h].get("tunnel_ip")})
            subnets = s.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == net.id)).all()
            out.append({
                "id": net.id, "network_type": net.network_type, "physical_network": net.physical_network or None,
                "segmentation_id": None if net.network_type == "flat" else net.segmentation_id, "mtu": net.mtu,
                "bridge": ports_core.bridge_name(net.id), "peers": [{"ip": ip, "port": port} for ip, port in peers],
                "dns_domain": net.dns_domain or self.core.conf.network.dns_domain,
                "subnets": [{"id": x.id, "cidr": x.cidr, "ip_version": x.ip_version, "gateway_ip": x.gateway_ip,
                             "enable_dhcp": x.enable_dhcp, "dns_nameservers": x.dns_nameservers,
                             "host_routes": x.host_routes, "ipv6_address_mode": x.ipv6_address_mode}
                            for x in subnets],
                "hosts": self._dhcp_hosts(s, net.id),
            })
        return out

    @staticmethod
    def _dhcp_hosts(s: orm.Session, network_id: str) -> list[dict[str, Any]]:
        """Static DHCP entries: every port of the network with an address (a guest may move hosts)."""
        rows = s.execute(sa.select(models.Port.id, models.Port.mac_address, models.Port.device_owner,
                                   models.Port.extra_dhcp_opts, models.Port.dns_name, models.IPAllocation.ip_address,
                                   models.IPAllocation.subnet_id)
                         .join(models.IPAllocation, models.IPAllocation.port_id == models.Port.id)
                         .where(models.Port.network_id == network_id)).all()
        return [{"port_id": r[0], "mac": r[1], "device_owner": r[2], "extra_dhcp_opts": r[3],
                 "hostname": r[4] or f"host-{r[5].replace('.', '-').replace(':', '-')}", "ip": r[5],
                 "subnet_id": r[6]} for r in rows]

    @staticmethod
    def _ips(s: orm.Session, port_id: str) -> list[dict[str, str]]:
        return [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in s.scalars(
            sa.select(models.IPAllocation).where(models.IPAllocation.port_id == port_id))]

    def _port(self, s: orm.Session, p: models.Port) -> dict[str, Any]:
        groups = list(s.scalars(sa.select(models.PortSecurityGroup.security_group_id)
                                .where(models.PortSecurityGroup.port_id == p.id)))
        return {"id": p.id, "project_id": p.project_id, "network_id": p.network_id, "mac": p.mac_address, "fixed_ips": self._ips(s, p.id),
                "admin_state_up": p.admin_state_up, "port_security_enabled": p.port_security_enabled,
                "security_groups": groups, "allowed_address_pairs": p.allowed_address_pairs,
                "device_owner": p.device_owner, "device_id": p.device_id, "tap": ports_core.tap_name(p.id),
                "bridge": ports_core.bridge_name(p.network_id), "status": p.status,
                "qos": self.core.qos_policies.rules_for_agent(s, self.core.qos_policies.effective(s, p))}

    def _router(self, s: orm.Session, r: models.Router) -> dict[str, Any]:
        interfaces = []
        for port in s.scalars(sa.select(models.Port).where(models.Port.device_id == r.id,
                                                           models.Port.device_owner == routers_core.INTERFACE)):
            interfaces.append({**self._port(s, port), "cidrs": self._cidrs(s, port.id)})
        gateway = None
        if r.gw_port_id:
            gw = s.get(models.Port, r.gw_port_id)
            if gw is not None:
                gateway = {**self._port(s, gw), "cidrs": self._cidrs(s, gw.id),
                           "gateways": [x.gateway_ip for x in s.scalars(sa.select(models.Subnet).join(
                               models.IPAllocation, models.IPAllocation.subnet_id == models.Subnet.id).where(
                               models.IPAllocation.port_id == gw.id)) if x.gateway_ip]}
        floating = [{"floating_ip": f.floating_ip_address, "fixed_ip": f.fixed_ip_address, "id": f.id}
                    for f in s.scalars(sa.select(models.FloatingIP).where(models.FloatingIP.router_id == r.id,
                                                                          models.FloatingIP.port_id.is_not(None)))]
        return {"id": r.id, "admin_state_up": r.admin_state_up, "enable_snat": r.enable_snat, "routes": r.routes,
                "interfaces": interfaces, "gateway": gateway, "floating_ips": floating}

    @staticmethod
    def _cidrs(s: orm.Session, port_id: str) -> list[str]:
        """The port's addresses with their subnets' prefix lengths (``10.0.0.1/24``)."""
        rows = s.execute(sa.select(models.IPAllocation.ip_address, models.Subnet.cidr).join(
            models.Subnet, models.Subnet.id == models.IPAllocation.subnet_id).where(
            models.IPAllocation.port_id == port_id)).all()
        return [f"{ip}/{cidr.split('/')[1]}" for ip, cidr in rows]

    def _security_groups(self, s: orm.Session, ports: Sequence[models.Port]) -> dict[str, Any]:
        """Rules of the groups the ports use, with the member addresses of every group a rule refers to."""
        group_ids = set(s.scalars(sa.select(models.PortSecurityGroup.security_group_id).where(
            models.PortSecurityGroup.port_id.in_([p.id for p in ports])))) if ports else set()
        out: dict[str, Any] = {}
        remote: set[str] = set()
        for gid in group_ids:
            rules = s.scalars(sa.select(models.SecurityGroupRule)
                              .where(models.SecurityGroupRule.security_group_id == gid)).all()
            group = s.get(models.SecurityGroup, gid)
            out[gid] = {"stateful": group.stateful if group else True, "rules": [
                {"direction": r.direction, "ethertype": r.ethertype, "protocol": r.protocol,
                 "port_range_min": r.port_range_min, "port_range_max": r.port_range_max,
                 "remote_ip_prefix": r.remote_ip_prefix, "remote_group_id": r.remote_group_id} for r in rules]}
            remote |= {r.remote_group_id for r in rules if r.remote_group_id}
        members: dict[str, list[str]] = {}
        for gid in remote:
            members[gid] = sorted(s.scalars(sa.select(models.IPAllocation.ip_address).join(
                models.PortSecurityGroup, models.PortSecurityGroup.port_id == models.IPAllocation.port_id).where(
                models.PortSecurityGroup.security_group_id == gid)))
        return {"groups": out, "members": members}

    # -- reports --------------------------------------------------------------------------------
    def update_port_status(self, host: str, statuses: dict[str, str]) -> None:
        plugged: list[dict[str, str]] = []
        with self.core.db.writer() as s:
            for port in s.scalars(sa.select(models.Port).where(models.Port.id.in_(list(statuses)),
                                                               models.Port.binding_host_id == host)):
                status = statuses[port.id]
                if status not in ("ACTIVE", "DOWN") or port.status == status:
                    continue
                port.status = status
                port.updated_at = types.utcnow()
                if status == "ACTIVE" and port.device_owner.startswith(COMPUTE_PREFIX) and port.device_id:
                    plugged.append({"name": "network-vif-plugged", "server_uuid": port.device_id, "tag": port.id,
                                    "status": "completed"})
        if plugged and self.send_events is not None:
            try:
                self.send_events(plugged)
            except Exception:  # noqa: BLE001 - compute also polls; a lost event only delays it
                LOG.exception("Could not tell compute that ports %s are plugged", [e["tag"] for e in plugged])

    def metadata_target(self, network_id: str, address: str) -> dict[str, str] | None:
        with self.core.db.reader() as s:
            row = s.execute(sa.select(models.Port.device_id, models.Port.project_id, models.Port.device_owner).join(
                models.IPAllocation, models.IPAllocation.port_id == models.Port.id).where(
                models.IPAllocation.network_id == network_id, models.IPAllocation.ip_address == address)).first()
        if row is None or not row[2].startswith(COMPUTE_PREFIX) or not row[0]:
            return None
        return {"instance_id": row[0], "project_id": row[1]}
