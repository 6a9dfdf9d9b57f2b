"""Networks: tenant overlays and provider networks, shared and external ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.network.core import common, errors, rbac, segments
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
CREATE_ATTRS = ("name", "description", "admin_state_up", "shared", "router:external", "mtu",
                "port_security_enabled", "project_id", "tenant_id", "availability_zone_hints", "dns_domain",
                "qos_policy_id", *PROVIDER)
UPDATE_ATTRS = ("name", "description", "admin_state_up", "shared", "router:external", "mtu",
                "port_security_enabled", "dns_domain", "qos_policy_id")
# Ports Neutron removes with their network instead of refusing the delete.
AUTO_DELETED_OWNERS = ("network:dhcp", "network:distributed")


class Networks(Resources):
    model = models.Network
    kind = "Network"
    member = "network"
    collection = "networks"
    sql_filters = ("id", "name", "project_id", "status", "network_type")
    sortable = (*Resources.sortable, "status", "mtu", "shared", "admin_state_up", "router:external")

    def visible(self, caller: Caller) -> Any:
        if caller.is_admin:
            return None
        return sa.or_(models.Network.project_id == caller.project_id, models.Network.shared.is_(True),
                      models.Network.router_external.is_(True),
                      models.Network.id.in_(rbac.granted_to(caller.project_id, rbac.SHARED)),
                      models.Network.id.in_(rbac.granted_to(caller.project_id, rbac.EXTERNAL)))

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.Network]) -> list[dict[str, Any]]:
        ids = [r.id for r in rows]
        subnets: dict[str, list[str]] = {i: [] for i in ids}
        if ids:
            for sid, nid in s.execute(sa.select(models.Subnet.id, models.Subnet.network_id)
                                      .where(models.Subnet.network_id.in_(ids))):
                subnets[nid].append(sid)
        tags = common.tags_of(s, ids)
        scopes: dict[tuple[str, int], str | None] = {}
        if ids:  # a network is in the address scope its subnets' pools are in (ipv4_/ipv6_address_scope)
            for nid, version, scope in s.execute(
                    sa.select(models.Subnet.network_id, models.Subnet.ip_version, models.SubnetPool.address_scope_id)
                    .join(models.SubnetPool, models.SubnetPool.id == models.Subnet.subnetpool_id)
                    .where(models.Subnet.network_id.in_(ids), models.SubnetPool.address_scope_id.is_not(None))):
                scopes[(nid, version)] = scope
        shared_to_caller = set(s.scalars(rbac.granted_to(caller.project_id, rbac.SHARED).where(
            models.RbacPolicy.object_id.in_(ids)))) if ids and caller.project_id else set()
        out = []
        for r in rows:
            view = self.view(r, subnets[r.id], tags[r.id], caller.is_admin)
            if r.id in shared_to_caller:  # Neutron shows a network shared with the caller's project as shared
                view["shared"] = True
            view.update({"ipv4_address_scope": scopes.get((r.id, 4)), "ipv6_address_scope": scopes.get((r.id, 6))})
            out.append(view)
        return out

    @staticmethod
    def view(r: models.Network, subnet_ids: list[str], tags: list[str], admin: bool) -> dict[str, Any]:
        out = common.standard_view(r, tags)
        out.update({
            "admin_state_up": r.admin_state_up, "status": r.status, "shared": r.shared,
            "router:external": r.router_external, "mtu": r.mtu, "port_security_enabled": r.port_security_enabled,
            "subnets": sorted(subnet_ids), "availability_zone_hints": [], "availability_zones": ["nova"],
            "ipv4_address_scope": None, "ipv6_address_scope": None, "l2_adjacency": True,
            "dns_domain": r.dns_domain, "is_default": False, "qos_policy_id": r.qos_policy_id,
        })
        if admin:  # provider details are the operator's business
            out.update({"provider:network_type": r.network_type,
                        "provider:physical_network": r.physical_network or None,
                        "provider:segmentation_id": None if r.network_type == "flat" else r.segmentation_id})
        return out

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, CREATE_ATTRS, self.member)
        project = common.owner_for_create(caller, attrs)
        conf = self.core.conf
        ntype, physnet, seg = segments.requested(conf, attrs)
        net = models.Network(id=common.types.new_uuid(), project_id=project, network_type=ntype,
                             physical_network=physnet, mtu=segments.mtu_for(conf, ntype))
        self._apply(net, attrs, conf)
        with self.core.db.writer() as s:
            self.core.quotas.check(s, project, "network")
            net.qos_policy_id = (self.core.qos_policies.usable(s, caller, attrs["qos_policy_id"])
                                 if "qos_policy_id" in attrs else self.core.qos_policies.default_for(s, project))
            segments.claim(s, conf, net, seg)
            for action in rbac.FLAGS:
                rbac.sync_flag(s, net, action)
            view = self.view(net, [], [], caller.is_admin)
        self.core.notify("network.create", view)
        return view

    def _apply(self, net: models.Network, attrs: dict[str, Any], conf: Any) -> None:
        common.apply_standard(net, attrs, self.member)
        for key, column in (("admin_state_up", "admin_state_up"), ("shared", "shared"),
                            ("router:external", "router_external"),
                            ("port_security_enabled", "port_security_enabled")):
            if key in attrs:
                setattr(net, column, common.as_bool(attrs[key], key))
        if attrs.get("mtu") is not None:
            limit = segments.mtu_for(conf, net.network_type)
            mtu = common.as_int(attrs["mtu"], "mtu", 68)
            if mtu > limit:
                raise errors.invalid(f"Requested MTU {mtu} is too big; the maximum for a {net.network_type} "
                                     f"network is {limit}.")
            net.mtu = mtu
        if "dns_domain" in attrs:
            net.dns_domain = common.as_str(attrs["dns_domain"], "dns_domain")

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_readonly(attrs, ("id", "project_id", "tenant_id", "status", "subnets", *PROVIDER),
                               self.member)
        common.reject_unknown(attrs, UPDATE_ATTRS, self.member)
        with self.core.db.writer() as s:
            net = self.row(s, caller, ident)
            common.check_revision(net, if_match, "network")
            if attrs.get("shared") is False and net.shared:
                others = s.scalar(sa.select(sa.func.count()).select_from(models.Port).where(
                    models.Port.network_id == net.id, models.Port.project_id != net.project_id,
                    models.Port.device_owner != "network:dhcp"))
                if others:
                    raise errors.conflict("InvalidSharedSetting", f"Unable to reconfigure sharing settings for "
                                          f"network {net.id}: other projects have ports on it.")
            self._apply(net, attrs, self.core.conf)
            if "qos_policy_id" in attrs:
                net.qos_policy_id = self.core.qos_policies.usable(s, caller, attrs["qos_policy_id"])
            for action in rbac.FLAGS:
                rbac.sync_flag(s, net, action)
            common.touch(net)
            view = self.views(s, caller, [net])[0]
        self.core.notify("network.update", view)
        return view

    def before_delete(self, s: orm.Session, caller: Caller, found: models.Network) -> None:
        # An external network goes with its floating IPs that are not associated with a port (Neutron's
        # delete_disassociated_floatingips); an associated one, like any other port, holds the network.
        released = dict(s.execute(sa.select(models.FloatingIP.floating_port_id, models.FloatingIP.id).where(
            models.FloatingIP.floating_network_id == found.id, models.FloatingIP.port_id.is_(None))).all())
        busy = s.scalar(sa.select(sa.func.count()).select_from(models.Port).where(
            models.Port.network_id == found.id, models.Port.device_owner.notin_(AUTO_DELETED_OWNERS),
            models.Port.id.notin_(list(released)) if released else sa.true()))
        if busy:
            raise errors.conflict("NetworkInUse", f"Unable to complete operation on network {found.id}. There are "
                                                  f"one or more ports still in use on the network ({busy}); "
                                                  "delete them first.")
        s.execute(sa.delete(models.FloatingIP).where(models.FloatingIP.floating_network_id == found.id))
        for floating_ip_id in released.values():
            self.core.notify("floatingip.delete", {"id": floating_ip_id})
        s.execute(sa.delete(models.RbacPolicy).where(models.RbacPolicy.object_type == "network",
                                                     models.RbacPolicy.object_id == found.id))
        subnet_ids = list(s.scalars(sa.select(models.Subnet.id).where(models.Subnet.network_id == found.id)))
        port_ids = list(s.scalars(sa.select(models.Port.id).where(models.Port.network_id == found.id)))
        for port_id in port_ids:
            self.core.ports.remove(s, port_id)
        if subnet_ids:
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id.in_(subnet_ids)))
            s.execute(sa.delete(models.Subnet).where(models.Subnet.id.in_(subnet_ids)))
