"""Ports: a device's attachment to a network, with its MAC, addresses, security and host binding."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nubis.network.core import common, errors, ipam, rbac
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

BINDING = ("binding:host_id", "binding:vnic_type", "binding:profile")
CREATE_ATTRS = ("name", "description", "network_id", "admin_state_up", "mac_address", "fixed_ips", "device_id",
                "device_owner", "project_id", "tenant_id", "security_groups", "port_security_enabled",
                "allowed_address_pairs", "extra_dhcp_opts", "dns_name", "qos_policy_id", *BINDING)
UPDATE_ATTRS = tuple(a for a in CREATE_ATTRS if a not in ("network_id", "project_id", "tenant_id"))
VNIC_TYPES = ("normal",)
# Ports the router and floating IP code own: the port API must not delete them behind its back.
L3_OWNERS = ("network:router_interface", "network:router_gateway", "network:floatingip")
MAC_ATTEMPTS = 8


def bridge_name(network_id: str) -> str:
    """The Linux bridge a network gets on every host (Neutron's linuxbridge naming, 14 characters)."""
    return f"brq{network_id[:11]}"


def tap_name(port_id: str) -> str:
    return f"tap{port_id[:11]}"


def valid_mac(value: Any) -> str:
    """``value`` as a lower-case unicast MAC address; 400 for anything else."""
    text = str(value).lower()
    parts = text.split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts):
        raise errors.invalid(f"'{value}' is not a valid MAC address.")
    if int(parts[0], 16) & 1:
        raise errors.invalid(f"'{value}' is a multicast MAC address; ports need a unicast one.")
    return text


class Ports(Resources):
    model = models.Port
    kind = "Port"
    member = "port"
    collection = "ports"
    sql_filters = ("id", "name", "project_id", "network_id", "device_id", "device_owner", "mac_address", "status")
    sql_aliases = {"binding:host_id": "binding_host_id"}
    sortable = (*Resources.sortable, "network_id", "mac_address", "device_id", "device_owner", "status",
                "admin_state_up")

    def visible(self, caller: Caller) -> Any:
        if caller.is_admin:
            return None
        mine = sa.select(models.Network.id).where(models.Network.project_id == caller.project_id)
        return sa.or_(models.Port.project_id == caller.project_id, models.Port.network_id.in_(mine))

    # -- views ----------------------------------------------------------------------------------
    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.Port]) -> list[dict[str, Any]]:
        ids = [r.id for r in rows]
        ips: dict[str, list[dict[str, str]]] = {i: [] for i in ids}
        groups: dict[str, list[str]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            for a in s.scalars(sa.select(models.IPAllocation).where(models.IPAllocation.port_id.in_(part))):
                ips[a.port_id].append({"subnet_id": a.subnet_id, "ip_address": a.ip_address})
            for pid, gid in s.execute(sa.select(models.PortSecurityGroup.port_id,
                                                models.PortSecurityGroup.security_group_id)
                                      .where(models.PortSecurityGroup.port_id.in_(part))):
                groups[pid].append(gid)
        tags = common.tags_of(s, ids)
        return [self.view(r, ips[r.id], groups[r.id], tags[r.id], caller.is_admin) for r in rows]

    @staticmethod
    def view(r: models.Port, ips: list[dict[str, str]], groups: list[str], tags: list[str],
             admin: bool) -> dict[str, Any]:
        out = common.standard_view(r, tags)
        out.update({
            "network_id": r.network_id, "mac_address": r.mac_address, "admin_state_up": r.admin_state_up,
            "status": r.status, "device_id": r.device_id, "device_owner": r.device_owner,
            "fixed_ips": sorted(ips, key=lambda i: (i["subnet_id"], i["ip_address"])),
            "allowed_address_pairs": r.allowed_address_pairs, "extra_dhcp_opts": r.extra_dhcp_opts,
            "security_groups": sorted(groups), "port_security_enabled": r.port_security_enabled,
            "binding:vnic_type": r.binding_vnic_type, "dns_name": r.dns_name, "ip_allocation": "immediate",
            "qos_policy_id": r.qos_policy_id,
        })
        if admin:
            out.update({"binding:host_id": r.binding_host_id, "binding:profile": r.binding_profile,
                        "binding:vif_type": r.binding_vif_type, "binding:vif_details": r.binding_vif_details})
        return out

    def target(self, caller: Caller, ident: str) -> dict[str, Any]:
        """As ``Resources.target``, plus the port's network's project (``network:project_id``, the owner of
        the address and filtering attributes) and its ``mac_address``."""
        with self.core.db.reader() as s:
            port = self.row(s, caller, ident)
            net = s.get(models.Network, port.network_id)
            return {"project_id": port.project_id, "network:project_id": net.project_id if net else None,
                    "mac_address": port.mac_address}

    # -- create ---------------------------------------------------------------------------------
    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, CREATE_ATTRS, self.member)
        project = common.owner_for_create(caller, attrs)
        if not attrs.get("network_id"):
            raise errors.invalid("network_id is required to create a port.")
        with self.core.db.writer() as s:
            # Every port made through the API counts, whatever its device_owner; only the ports the service
            # makes for itself (DHCP, router and floating IP ports, through create_in) do not.
            self.core.quotas.check(s, project, "port")
            view = self.create_in(s, caller, project, attrs)
        self.core.notify("port.create", view)
        return view

    def create_in(self, s: orm.Session, caller: Caller, project: str, attrs: dict[str, Any]) -> dict[str, Any]:
        """Create a port inside ``s`` (routers and floating IPs use this for their own ports)."""
        net = self.core.networks.row(s, caller, attrs["network_id"])
        net_owner = caller.owns(net.project_id)
        if not net_owner and not rbac.grants(s, net, caller.project_id, rbac.SHARED):
            raise errors.not_authorized(f"create_port on network {net.id} of another project")
        self.refuse_foreign_device(s, caller, project, attrs)
        port = models.Port(id=common.types.new_uuid(), project_id=project, network_id=net.id,
                           port_security_enabled=net.port_security_enabled)
        self._apply(port, attrs)
        if "qos_policy_id" in attrs:
            port.qos_policy_id = self.core.qos_policies.usable(s, caller, attrs["qos_policy_id"])
        self._insert_with_mac(s, port, attrs.get("mac_address"))
        self._assign_ips(s, port, net, attrs.get("fixed_ips"))
        self._security(s, caller, port, attrs, creating=True)
        self._bind(port, attrs)
        return self.views(s, caller, [port])[0]

    @staticmethod
    def refuse_foreign_device(s: orm.Session, caller: Caller, project: str, attrs: dict[str, Any]) -> None:
        """400 when a tenant points its port's ``device_id`` at another project's router: the L3 agent would
        plug the port into that router (Neutron refuses the same). Servers live in compute, which only counts
        the ports of the server's own project."""
        device_id = attrs.get("device_id")
        if caller.is_admin or not device_id or not isinstance(device_id, str):
            return
        router = s.get(models.Router, device_id)
        if router is not None and router.project_id != project:
            raise errors.invalid(f"Tenant {project} not allowed to create port on this network: device_id "
                                 f"{device_id} is another project's router.")

    def _apply(self, port: models.Port, attrs: dict[str, Any]) -> None:
        common.apply_standard(port, attrs, self.member)
        for key in ("device_id", "device_owner", "dns_name"):
            if key in attrs:
                setattr(port, key, common.as_str(attrs[key], key))
        if "admin_state_up" in attrs:
            port.admin_state_up = common.as_bool(attrs["admin_state_up"], "admin_state_up")
        if "extra_dhcp_opts" in attrs:
            opts = common.as_list(attrs["extra_dhcp_opts"], "extra_dhcp_opts")
            for opt in opts:
                if not isinstance(opt, dict) or not opt.get("opt_name") or "opt_value" not in opt:
                    raise errors.invalid(f"extra_dhcp_opt {opt!r} needs opt_name and opt_value.")
                common.as_str(opt["opt_name"], "extra_dhcp_opts opt_name")
                common.as_str(opt["opt_value"], "extra_dhcp_opts opt_value")
                if opt.get("ip_version", 4) not in (4, 6):
                    raise errors.invalid(f"ip_version {opt['ip_version']} of extra_dhcp_opt must be 4 or 6.")
            port.extra_dhcp_opts = [{"opt_name": str(o["opt_name"]), "opt_value": str(o["opt_value"]),
                                     "ip_version": int(o.get("ip_version", 4))} for o in opts]

    def _insert_with_mac(self, s: orm.Session, port: models.Port, requested: Any) -> None:
        if requested is not None:
            port.mac_address = valid_mac(requested)
        prefix = self.core.conf.network.base_mac.lower().split(":")[:3]
        for _ in range(MAC_ATTEMPTS):
            if requested is None:
                port.mac_address = ":".join([*prefix, *(f"{random.randrange(256):02x}" for _ in range(3))])
            try:
                with s.begin_nested():
                    s.add(port)
                    s.flush()
                return
            except sa_exc.IntegrityError:
                if requested is not None:
                    raise errors.conflict("MacAddressInUse", f"Unable to complete operation for network "
                                          f"{port.network_id}. The mac address {port.mac_address} is in use.") from None
        raise errors.conflict("MacAddressGenerationFailure", f"Unable to generate a unique mac on network "
                                                             f"{port.network_id}.")

    def _assign_ips(self, s: orm.Session, port: models.Port, net: models.Network, requested: Any) -> None:
        subnets = s.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == net.id)
                            .order_by(models.Subnet.created_at, models.Subnet.id)).all()
        by_id = {sub.id: sub for sub in subnets}
        if requested is None:
            # One IPv4 address, and one from every IPv6 subnet (as Neutron does).
            v4 = [sub for sub in subnets if sub.ip_version == 4]
            for sub in v4:
                try:
                    with s.begin_nested():
                        ipam.allocate(s, sub, port)
                    break
                except errors.exceptions.Conflict:
                    if sub is v4[-1]:
                        raise
            for sub in subnets:
                if sub.ip_version == 6:
                    ipam.allocate(s, sub, port)
            return
        specs = common.as_list(requested, "fixed_ips")
        if len(specs) > self.core.conf.network.max_fixed_ips_per_port:
            raise errors.bad_request("InvalidInput", f"Exceeded maximum amount of fixed ips per port "
                                                     f"({self.core.conf.network.max_fixed_ips_per_port}).")
        for spec in specs:
            self._allocate_one(s, port, net, by_id, subnets, spec)

    @staticmethod
    def _allocate_one(s: orm.Session, port: models.Port, net: models.Network, by_id: dict[str, models.Subnet],
                      subnets: Sequence[models.Subnet], spec: Any) -> str:
        if not isinstance(spec, dict) or not set(spec) <= {"subnet_id", "ip_address"} or not spec:
            raise errors.invalid(f"fixed_ips entry {spec!r} needs subnet_id and/or ip_address.")
        ip = spec.get("ip_address")
        sub_id = spec.get("subnet_id")
        if sub_id is not None and sub_id not in by_id:
            raise errors.invalid(f"Failed to create port on network {net.id}, because fixed_ips included "
                                 f"invalid subnet {sub_id}.")
        if sub_id is None:
            addr = ipam.address(ip)
            match = [sub for sub in subnets if addr in ipam.network_of(sub.cidr)]
            if not match:
                raise errors.bad_request("InvalidIpForNetwork", f"IP address {ip} is not a valid IP for any of "
                                                                f"the subnets on network {net.id}.")
            sub_id = match[0].id
        return ipam.allocate(s, by_id[sub_id], port, ip)

    def _security(self, s: orm.Session, caller: Caller, port: models.Port, attrs: dict[str, Any],
                  creating: bool) -> None:
        if "port_security_enabled" in attrs:
            port.port_security_enabled = common.as_bool(attrs["port_security_enabled"], "port_security_enabled")
        if "allowed_address_pairs" in attrs:
            port.allowed_address_pairs = self._pairs(port, attrs["allowed_address_pairs"])
        current = set(s.scalars(sa.select(models.PortSecurityGroup.security_group_id)
                                .where(models.PortSecurityGroup.port_id == port.id)))
        wanted = current
        if "security_groups" in attrs:
            wanted = set(common.as_ids(attrs["security_groups"], "security_groups"))
            for gid in wanted:
                group = s.get(models.SecurityGroup, gid)
                if group is None or not (caller.is_admin or group.project_id == port.project_id):
                    raise errors.not_found("SecurityGroup", gid)
        elif creating and port.port_security_enabled and not port.device_owner.startswith("network:"):
            wanted = {self.core.security_groups.default_id(s, port.project_id)}
        if not port.port_security_enabled:
            if wanted and "security_groups" in attrs:
                raise errors.conflict("PortSecurityAndIPRequiredForSecurityGroups",
                                      "Port security must be enabled and port must have an IP address in order to "
                                      "use security groups.")
            if port.allowed_address_pairs:
                raise errors.conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order "
                                      "to have allowed address pairs on a port.")
            wanted = set()
        for gid in current - wanted:
            s.execute(sa.delete(models.PortSecurityGroup).where(models.PortSecurityGroup.port_id == port.id,
                                                                 models.PortSecurityGroup.security_group_id == gid))
        for gid in sorted(wanted - current):
            s.add(models.PortSecurityGroup(port_id=port.id, security_group_id=gid))

    @staticmethod
    def _pairs(port: models.Port, value: Any) -> list[dict[str, str]]:
        pairs = []
        for pair in common.as_list(value, "allowed_address_pairs"):
            if not isinstance(pair, dict) or "ip_address" not in pair or not set(pair) <= {"ip_address",
                                                                                           "mac_address"}:
                raise errors.invalid(f"allowed address pair {pair!r} needs ip_address (and optionally mac_address).")
            text = pair["ip_address"]
            net = ipam.network_of(text)  # a string, as every address field (400 for 42)
            pairs.append({"ip_address": text if "/" in text and net.num_addresses > 1 else str(net.network_address),
                          "mac_address": valid_mac(pair.get("mac_address") or port.mac_address)})
        if len({(p["ip_address"], p["mac_address"]) for p in pairs}) != len(pairs):
            raise errors.bad_request("DuplicateAddressPairInRequest", "Request contains duplicate address pair.")
        return pairs

    def _bind(self, port: models.Port, attrs: dict[str, Any]) -> None:
        if "binding:vnic_type" in attrs:
            if attrs["binding:vnic_type"] not in VNIC_TYPES:
                raise errors.invalid(f"binding:vnic_type {attrs['binding:vnic_type']!r} is not supported; "
                                     f"use one of {', '.join(VNIC_TYPES)}.")
            port.binding_vnic_type = attrs["binding:vnic_type"]
        if "binding:profile" in attrs:
            profile = attrs["binding:profile"] or {}
            if not isinstance(profile, dict):
                raise errors.invalid("binding:profile must be an object.")
            port.binding_profile = profile
        if "binding:host_id" in attrs:
            host = common.as_str(attrs["binding:host_id"], "binding:host_id")
            if host != port.binding_host_id:
                port.status = "DOWN"  # the new host's agent reports it ACTIVE once the tap is wired
            port.binding_host_id = host
            if host:
                port.binding_vif_type = "bridge"
                port.binding_vif_details = {"connectivity": "l2", "port_filter": True,
                                            "bridge_name": bridge_name(port.network_id)}
            else:
                port.binding_vif_type, port.binding_vif_details = "unbound", {}

    # -- update / delete ------------------------------------------------------------------------
    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_readonly(attrs, ("id", "network_id", "project_id", "tenant_id", "status"), self.member)
        common.reject_unknown(attrs, UPDATE_ATTRS, self.member)
        with self.core.db.writer() as s:
            port = self.owned_row(s, caller, ident)
            common.check_revision(port, if_match, "port")
            net = s.get(models.Network, port.network_id)
            assert net is not None
            self.refuse_foreign_device(s, caller, port.project_id, attrs)
            if "mac_address" in attrs and valid_mac(attrs["mac_address"]) != port.mac_address:
                if port.binding_host_id:
                    raise errors.conflict("PortBound", f"Unable to change the mac of port {port.id}: it is bound "
                                                       f"to host {port.binding_host_id}.")
                port.mac_address = valid_mac(attrs["mac_address"])
                try:
                    with s.begin_nested():
                        s.flush()
                except sa_exc.IntegrityError:
                    raise errors.conflict("MacAddressInUse", f"The mac address {port.mac_address} is in use.") from None
            self._apply(port, attrs)
            if "qos_policy_id" in attrs:
                port.qos_policy_id = self.core.qos_policies.usable(s, caller, attrs["qos_policy_id"])
            if "fixed_ips" in attrs:
                self._replace_ips(s, port, net, attrs["fixed_ips"])
            self._security(s, caller, port, attrs, creating=False)
            self._bind(port, attrs)
            common.touch(port)
            view = self.views(s, caller, [port])[0]
        self.core.notify("port.update", view)
        return view

    def _replace_ips(self, s: orm.Session, port: models.Port, net: models.Network, value: Any) -> None:
        specs = common.as_list(value, "fixed_ips")
        current = {(a.subnet_id, a.ip_address) for a in s.scalars(
            sa.select(models.IPAllocation).where(models.IPAllocation.port_id == port.id))}
        keep = current & {(sp.get("subnet_id") or self._subnet_of(s, net, sp["ip_address"]), sp["ip_address"])
                          for sp in specs if isinstance(sp, dict) and sp.get("ip_address")}
        ipam.release(s, port.id, keep=keep)
        subnets = s.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == net.id)).all()
        by_id = {sub.id: sub for sub in subnets}
        for spec in specs:
            if isinstance(spec, dict) and spec.get("ip_address") and any(ip == spec["ip_address"] for _, ip in keep):
                continue
            self._allocate_one(s, port, net, by_id, subnets, spec)

    @staticmethod
    def _subnet_of(s: orm.Session, net: models.Network, ip: str) -> str | None:
        addr = ipam.address(ip)
        for sid, cidr in s.execute(sa.select(models.Subnet.id, models.Subnet.cidr)
                                   .where(models.Subnet.network_id == net.id)):
            if addr in ipam.network_of(cidr):
                return str(sid)
        return None

    def before_delete(self, s: orm.Session, caller: Caller, found: models.Port) -> None:
        if found.device_owner in L3_OWNERS:
            raise errors.conflict("L3PortInUse", f"Port {found.id} cannot be deleted directly via the port API: it "
                                                 f"has device owner {found.device_owner}. Remove it from its "
                                                 "router or floating IP instead.")
        self.release_everything(s, found.id)

    def release_everything(self, s: orm.Session, port_id: str) -> None:
        ipam.release(s, port_id)
        s.execute(sa.update(models.FloatingIP).where(models.FloatingIP.port_id == port_id)
                  .values(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN"))

    def remove(self, s: orm.Session, port_id: str) -> None:
        """Delete a port whatever its owner (its network, router or floating IP is going away)."""
        self.release_everything(s, port_id)
        s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == port_id))
        s.execute(sa.delete(models.PortSecurityGroup).where(models.PortSecurityGroup.port_id == port_id))
        s.execute(sa.delete(models.Port).where(models.Port.id == port_id))
