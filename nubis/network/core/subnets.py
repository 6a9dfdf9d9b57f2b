"""Subnets: address ranges on a network, their pools, gateway, DNS and routes."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.network.core import common, errors, ipam, rbac
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
CREATE_ATTRS = ("name", "description", "network_id", "ip_version", "cidr", "gateway_ip", "allocation_pools",
                "dns_nameservers", "host_routes", "enable_dhcp", "ipv6_ra_mode", "ipv6_address_mode",
                "subnetpool_id", "prefixlen", "use_default_subnetpool", "project_id", "tenant_id",
                "service_types", "segment_id", "dns_publish_fixed_ip")
UPDATE_ATTRS = ("name", "description", "gateway_ip", "allocation_pools", "dns_nameservers", "host_routes",
                "enable_dhcp", "service_types", "dns_publish_fixed_ip")
# Service-owned ports whose addresses go away with their subnet instead of keeping it in use (Neutron's
# AUTO_DELETE_PORT_OWNERS); once the network's last subnet goes, these ports go too.
AUTO_RELEASED_OWNERS = ("network:dhcp", "network:distributed")
AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")


class Subnets(Resources):
    model = models.Subnet
    kind = "Subnet"
    member = "subnet"
    collection = "subnets"
    sql_filters = ("id", "name", "project_id", "network_id", "ip_version", "cidr", "subnetpool_id")
    sortable = (*Resources.sortable, "network_id", "ip_version", "cidr", "gateway_ip", "enable_dhcp")

    def visible(self, caller: Caller) -> Any:
        # Neutron shows a subnet to its owner and to the projects its network is shared with. An external
        # network's subnets stay hidden from the projects that only use it as a gateway (Tempest checks this).
        if caller.is_admin:
            return None
        shared = sa.select(models.Network.id).where(models.Network.shared.is_(True))
        return sa.or_(models.Subnet.project_id == caller.project_id, models.Subnet.network_id.in_(shared),
                      models.Subnet.network_id.in_(rbac.granted_to(caller.project_id, rbac.SHARED)))

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.Subnet]) -> list[dict[str, Any]]:
        tags = common.tags_of(s, [r.id for r in rows])
        return [self.view(r, tags[r.id]) for r in rows]

    @staticmethod
    def view(r: models.Subnet, tags: list[str]) -> dict[str, Any]:
        out = common.standard_view(r, tags)
        out.update({
            "network_id": r.network_id, "ip_version": r.ip_version, "cidr": r.cidr, "gateway_ip": r.gateway_ip,
            "enable_dhcp": r.enable_dhcp, "ipv6_ra_mode": r.ipv6_ra_mode, "ipv6_address_mode": r.ipv6_address_mode,
            "subnetpool_id": r.subnetpool_id, "allocation_pools": r.allocation_pools,
            "dns_nameservers": r.dns_nameservers, "host_routes": r.host_routes, "service_types": [],
            "segment_id": None, "dns_publish_fixed_ip": False,
        })
        return out

    # -- create ---------------------------------------------------------------------------------
    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, CREATE_ATTRS, self.member)
        project = common.owner_for_create(caller, attrs)
        if not attrs.get("network_id"):
            raise errors.invalid("network_id is required to create a subnet.")
        version = common.as_int(attrs.get("ip_version", 4), "ip_version")
        if version not in (4, 6):
            raise errors.invalid(f"{version} is not in [4, 6] for ip_version.")
        with self.core.db.writer() as s:
            net = self.core.networks.row(s, caller, attrs["network_id"])
            if not caller.owns(net.project_id):
                raise errors.not_authorized("create_subnet on a network of another project")
            self.core.quotas.check(s, project, "subnet")
            cidr = self._cidr(s, caller, attrs, version)
            subnet = models.Subnet(id=common.types.new_uuid(), project_id=project, network_id=net.id,
                                   ip_version=version, cidr=str(cidr), subnetpool_id=attrs.get("subnetpool_id"))
            self._check_overlap(s, net.id, cidr, None)
            self._modes(subnet, attrs, cidr)
            gateway = self._gateway(cidr, attrs.get("gateway_ip", "auto"))
            subnet.gateway_ip = None if gateway is None else str(gateway)
            pools = (ipam.parse_pools(cidr, gateway, common.as_list(attrs["allocation_pools"], "allocation_pools"))
                     if attrs.get("allocation_pools") else ipam.default_pools(cidr, gateway))
            subnet.allocation_pools = [{"start": str(a), "end": str(b)} for a, b in pools]
            self._apply(subnet, attrs)
            s.add(subnet)
            s.flush()
            view = self.view(subnet, [])
        self.core.notify("subnet.create", view)
        return view

    def _cidr(self, s: orm.Session, caller: Caller, attrs: dict[str, Any], version: int) -> ipam.IPNetwork:
        pool_id = attrs.get("subnetpool_id")
        if not pool_id and attrs.get("use_default_subnetpool"):
            pool_id = self.core.subnetpools.default_id(s, version)
            attrs["subnetpool_id"] = pool_id
        if pool_id:
            pool = self.core.subnetpools.row(s, caller, pool_id)
            if pool.ip_version != version:
                raise errors.invalid(f"subnet pool {pool_id} is IPv{pool.ip_version}; the subnet is IPv{version}.")
            return self.core.subnetpools.carve(s, pool, attrs.get("cidr"), attrs.get("prefixlen"))
        if not attrs.get("cidr"):
            raise errors.bad_request("BadRequest", "A cidr must be specified in the absence of a subnet pool.")
        raw = str(attrs["cidr"])
        cidr = ipam.network_of(raw)
        if str(cidr) != raw and "/" in raw:
            raise errors.invalid(f"'{raw}' isn't a recognized IP subnet cidr, '{cidr}' is recommended.")
        if cidr.version != version:
            raise errors.invalid(f"Cidr {cidr} does not match ip_version {version}.")
        if (version == 4 and cidr.prefixlen > 30) or (version == 6 and cidr.prefixlen > 126):
            raise errors.invalid(f"cidr {cidr} is too small: it leaves no addresses to allocate.")
        return cidr

    @staticmethod
    def _check_overlap(s: orm.Session, network_id: str, cidr: ipam.IPNetwork, subnet_id: str | None) -> None:
        for other_id, other in s.execute(sa.select(models.Subnet.id, models.Subnet.cidr)
                                         .where(models.Subnet.network_id == network_id)):
            net = ipaddress.ip_network(other)
            if other_id != subnet_id and net.version == cidr.version and net.overlaps(cidr):
                raise errors.invalid(f"Requested subnet with cidr: {cidr} for network: {network_id} overlaps "
                                     f"with another subnet ({other_id}, {other}).")

    @staticmethod
    def _modes(subnet: models.Subnet, attrs: dict[str, Any], cidr: ipam.IPNetwork) -> None:
        ra, addr = attrs.get("ipv6_ra_mode"), attrs.get("ipv6_address_mode")
        for name, value in (("ipv6_ra_mode", ra), ("ipv6_address_mode", addr)):
            if value is None:
                continue
            if subnet.ip_version != 6:
                raise errors.invalid(f"{name} is set to '{value}', but it is only valid for IPv6 subnets.")
            if value not in IPV6_MODES:
                raise errors.invalid(f"'{value}' is not in {list(IPV6_MODES)} for {name}.")
        if ra and addr and ra != addr:
            raise errors.invalid(f"ipv6_ra_mode set to '{ra}' with ipv6_address_mode set to '{addr}' is not "
                                 "valid. If both attributes are set, they must be the same value.")
        if (addr or ra) in ipam.SLAAC_MODES and cidr.prefixlen != 64:
            raise errors.invalid(f"Invalid CIDR {cidr} for IPv6 address mode. OpenStack uses the EUI-64 address "
                                 "format, which requires the prefix to be /64.")
        subnet.ipv6_ra_mode, subnet.ipv6_address_mode = ra, addr

    @staticmethod
    def _gateway(cidr: ipam.IPNetwork, given: Any) -> ipam.IPAddress | None:
        if given is None:
            return None
        if given == "auto":
            return cidr.network_address + 1
        gateway = ipam.address(given, "gateway IP")
        if gateway not in cidr or (cidr.version == 4 and gateway in (cidr.network_address, cidr.broadcast_address)):
            raise errors.bad_request("InvalidInput", f"Invalid input for operation: Gateway is not valid on "
                                                     f"subnet: {gateway} is not a host address of {cidr}.")
        return gateway

    @staticmethod
    def _apply(subnet: models.Subnet, attrs: dict[str, Any]) -> None:
        common.apply_standard(subnet, attrs, "subnet")
        if "enable_dhcp" in attrs:
            subnet.enable_dhcp = common.as_bool(attrs["enable_dhcp"], "enable_dhcp")
        if "dns_nameservers" in attrs:
            servers = [str(ipam.address(d, "nameserver"))
                       for d in common.as_list(attrs["dns_nameservers"], "dns_nameservers")]
            if len(set(servers)) != len(servers):
                raise errors.invalid(f"Duplicate nameserver in {servers}.")
            subnet.dns_nameservers = servers
        if "host_routes" in attrs:
            routes = []
            for route in common.as_list(attrs["host_routes"], "host_routes"):
                if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
                    raise errors.invalid(f"host route {route!r} needs exactly 'destination' and 'nexthop'.")
                routes.append({"destination": str(ipam.network_of(route["destination"])),
                               "nexthop": str(ipam.address(route["nexthop"], "nexthop"))})
            subnet.host_routes = routes

    # -- update / delete ------------------------------------------------------------------------
    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_readonly(attrs, ("id", "network_id", "cidr", "ip_version", "project_id", "tenant_id",
                                       "subnetpool_id", "ipv6_ra_mode", "ipv6_address_mode"), self.member)
        common.reject_unknown(attrs, UPDATE_ATTRS, self.member)
        with self.core.db.writer() as s:
            subnet = self.owned_row(s, caller, ident)
            common.check_revision(subnet, if_match, "subnet")
            cidr = ipam.network_of(subnet.cidr)
            gateway = ipam.address(subnet.gateway_ip) if subnet.gateway_ip else None
            if "gateway_ip" in attrs:
                gateway = self._gateway(cidr, attrs["gateway_ip"])
                if gateway is not None and s.scalar(sa.select(models.IPAllocation.port_id).where(
                        models.IPAllocation.subnet_id == subnet.id, models.IPAllocation.ip_address == str(gateway),
                        models.IPAllocation.port_id.notin_(self._router_ports(s)))):
                    raise errors.conflict("GatewayIpInUse", f"Current gateway ip {gateway} already in use by a "
                                                            "port; unable to update.")
                subnet.gateway_ip = None if gateway is None else str(gateway)
            if "allocation_pools" in attrs:
                pools = ipam.parse_pools(cidr, gateway, common.as_list(attrs["allocation_pools"], "allocation_pools"))
                subnet.allocation_pools = [{"start": str(a), "end": str(b)} for a, b in pools]
            elif "gateway_ip" in attrs and gateway is not None and ipam.in_pools(ipam.pools_of(subnet), gateway):
                raise errors.conflict("GatewayConflictWithAllocationPools",
                                      f"Gateway ip {gateway} conflicts with the subnet's allocation pools; "
                                      "change allocation_pools in the same request.")
            self._apply(subnet, attrs)
            common.touch(subnet)
            view = self.views(s, caller, [subnet])[0]
        self.core.notify("subnet.update", view)
        return view

    @staticmethod
    def _router_ports(s: orm.Session) -> Any:
        return sa.select(models.Port.id).where(models.Port.device_owner.like("network:router%"))

    def before_delete(self, s: orm.Session, caller: Caller, found: models.Subnet) -> None:
        holders = s.execute(sa.select(models.Port.id, models.Port.device_owner).join(
            models.IPAllocation, models.IPAllocation.port_id == models.Port.id).where(
            models.IPAllocation.subnet_id == found.id)).all()
        # An address a port configured itself (SLAAC, DHCPv6-stateless) goes with its subnet, as in Neutron;
        # a router's interface on it still holds the subnet.
        auto_address = found.ip_version == 6 and found.ipv6_address_mode in AUTO_ADDRESS_MODES
        busy = [pid for pid, owner in holders if owner not in AUTO_RELEASED_OWNERS
                and not (auto_address and not (owner or "").startswith("network:router"))]
        if busy:
            raise errors.conflict("SubnetInUse", f"Unable to complete operation on subnet {found.id}: one or more "
                                                 f"ports have an IP allocation from this subnet ({len(busy)}, e.g. "
                                                 f"port {busy[0]}); delete them first.")
        for pid, _ in holders:
            ipam.release(s, pid, keep=[(sid, ip) for sid, ip in s.execute(
                sa.select(models.IPAllocation.subnet_id, models.IPAllocation.ip_address).where(
                    models.IPAllocation.port_id == pid, models.IPAllocation.subnet_id != found.id))])
        others = s.scalar(sa.select(sa.func.count()).select_from(models.Subnet).where(
            models.Subnet.network_id == found.network_id, models.Subnet.id != found.id))
        if not others:  # the network's last subnet: its DHCP ports have nothing left to serve
            for pid in list(s.scalars(sa.select(models.Port.id).where(
                    models.Port.network_id == found.network_id, models.Port.device_owner.in_(AUTO_RELEASED_OWNERS)))):
                self.core.ports.remove(s, pid)
