"""Floating IPs: addresses of an external network, NATed to a port's fixed IP through a router."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.network.core import common, errors, ipam, rbac, routers
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

OWNER = "network:floatingip"


class FloatingIPs(Resources):
    model = models.FloatingIP
    kind = "FloatingIP"
    member = "floatingip"
    collection = "floatingips"
    sql_filters = ("id", "project_id", "floating_network_id", "floating_ip_address", "port_id", "router_id",
                   "fixed_ip_address", "status")
    sortable = (*Resources.sortable, "floating_ip_address", "floating_network_id", "router_id", "port_id",
                "fixed_ip_address", "status")

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.FloatingIP]) -> list[dict[str, Any]]:
        tags = common.tags_of(s, [r.id for r in rows])
        ports = {p.id: p for p in s.scalars(sa.select(models.Port).where(
            models.Port.id.in_({r.port_id for r in rows if r.port_id})))} if any(r.port_id for r in rows) else {}
        out = []
        for r in rows:
            view = common.standard_view(r, tags[r.id])
            view.pop("name")
            view.update({"floating_ip_address": r.floating_ip_address, "floating_network_id": r.floating_network_id,
                         "router_id": r.router_id, "port_id": r.port_id, "fixed_ip_address": r.fixed_ip_address,
                         "status": r.status, "port_forwardings": [], "qos_policy_id": None, "dns_domain": "",
                         "dns_name": "", "port_details": _port_details(ports.get(r.port_id or ""))})
            out.append(view)
        return out

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("floating_network_id", "floating_ip_address", "subnet_id", "port_id",
                                      "fixed_ip_address", "description", "project_id", "tenant_id", "dns_domain",
                                      "dns_name", "qos_policy_id"), self.member)
        project = common.owner_for_create(caller, attrs)
        if attrs.get("floating_ip_address") and not caller.is_admin:
            raise errors.not_authorized("create_floatingip:floating_ip_address")
        if not attrs.get("floating_network_id"):
            raise errors.invalid("floating_network_id is required.")
        common.as_ids([attrs["floating_network_id"]], "floating_network_id")
        with self.core.db.writer() as s:
            net = s.get(models.Network, attrs["floating_network_id"])
            if net is None or not rbac.grants(s, net, project, rbac.EXTERNAL):
                raise errors.bad_request("BadRequest", f"Bad floatingip request: Network "
                                                       f"{attrs['floating_network_id']} is not a valid external "
                                                       "network.")
            self.core.quotas.check(s, project, "floatingip")
            fip = models.FloatingIP(id=common.types.new_uuid(), project_id=project, floating_network_id=net.id)
            fixed: list[dict[str, str]] = []
            if attrs.get("floating_ip_address") or attrs.get("subnet_id"):
                fixed = [{k: v for k, v in (("subnet_id", attrs.get("subnet_id")),
                                            ("ip_address", attrs.get("floating_ip_address"))) if v}]
            port = self.core.ports.create_in(s, self.core.internal_caller(), "", {
                "network_id": net.id, "device_id": fip.id, "device_owner": OWNER, "name": "",
                **({"fixed_ips": fixed} if fixed else {})})
            v4 = [ip["ip_address"] for ip in port["fixed_ips"] if ipam.address(ip["ip_address"]).version == 4]
            if not v4:
                raise errors.bad_request("BadRequest", f"Bad floatingip request: network {net.id} has no IPv4 "
                                                       "subnet to allocate a floating IP from.")
            fip.floating_ip_address, fip.floating_port_id = v4[0], port["id"]
            common.apply_standard(fip, attrs, self.member)
            s.add(fip)
            s.flush()
            if attrs.get("port_id"):
                self._associate(s, caller, fip, attrs["port_id"], attrs.get("fixed_ip_address"))
            view = self.views(s, caller, [fip])[0]
        self.core.notify("floatingip.create", view)
        return view

    def _associate(self, s: orm.Session, caller: Caller, fip: models.FloatingIP, port_id: str,
                   fixed_ip: str | None) -> None:
        port = self.core.ports.row(s, caller, port_id)
        if port.project_id != fip.project_id and not caller.is_admin:
            raise errors.not_found("Port", port_id)
        ips = list(s.scalars(sa.select(models.IPAllocation).where(models.IPAllocation.port_id == port.id)))
        v4 = [a for a in ips if ipam.address(a.ip_address).version == 4]
        if fixed_ip is not None:
            chosen = next((a for a in v4 if a.ip_address == fixed_ip), None)
            if chosen is None:
                raise errors.bad_request("BadRequest", f"Bad floatingip request: Port {port.id} does not have fixed "
                                                       f"ip {fixed_ip}.")
        elif len(v4) == 1:
            chosen = v4[0]
        elif not v4:
            raise errors.bad_request("BadRequest", f"Bad floatingip request: Port {port.id} does not have any "
                                                   "IPv4 address; a floating IP needs one.")
        else:
            raise errors.bad_request("BadRequest", f"Bad floatingip request: Port {port.id} has multiple fixed "
                                                   "IPv4 addresses. Must provide a specific IPv4 address when "
                                                   "assigning a floating IP.")
        taken = s.scalar(sa.select(models.FloatingIP.id).where(models.FloatingIP.port_id == port.id,
                                                               models.FloatingIP.fixed_ip_address == chosen.ip_address,
                                                               models.FloatingIP.id != fip.id))
        if taken:
            raise errors.conflict("FloatingIPPortAlreadyAssociated",
                                  f"Cannot associate floating IP {fip.floating_ip_address} ({fip.id}) with port "
                                  f"{port.id} using fixed IP {chosen.ip_address}, as that fixed IP already has a "
                                  f"floating IP on external network {fip.floating_network_id}.")
        fip.router_id = self._router_for(s, fip, chosen)
        fip.port_id, fip.fixed_ip_address = port.id, chosen.ip_address

    @staticmethod
    def _router_for(s: orm.Session, fip: models.FloatingIP, fixed: models.IPAllocation) -> str:
        """The router that joins the port's subnet to the floating IP's network."""
        candidates = s.scalars(sa.select(models.Port.device_id).join(
            models.IPAllocation, models.IPAllocation.port_id == models.Port.id).where(
            models.Port.device_owner == routers.INTERFACE, models.IPAllocation.subnet_id == fixed.subnet_id)).all()
        for router_id in candidates:
            router = s.get(models.Router, router_id)
            gw = s.get(models.Port, router.gw_port_id) if router and router.gw_port_id else None
            if gw is not None and gw.network_id == fip.floating_network_id:
                return router_id
        raise errors.exceptions.NotFound(
            f"External network {fip.floating_network_id} is not reachable from subnet {fixed.subnet_id}. Therefore, "
            f"cannot associate Port {fixed.port_id} with a Floating IP: add the subnet to a router whose gateway is "
            "on that network.", "ExternalGatewayForFloatingIPNotFound")

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("port_id", "fixed_ip_address", "description", "qos_policy_id"), self.member)
        with self.core.db.writer() as s:
            fip = self.owned_row(s, caller, ident)
            common.check_revision(fip, if_match, "floating IP")
            common.apply_standard(fip, attrs, self.member)
            if "port_id" in attrs:
                if attrs["port_id"]:
                    self._associate(s, caller, fip, attrs["port_id"], attrs.get("fixed_ip_address"))
                else:
                    fip.port_id = fip.fixed_ip_address = fip.router_id = None
                    fip.status = "DOWN"
            common.touch(fip)
            view = self.views(s, caller, [fip])[0]
        self.core.notify("floatingip.update", view)
        return view

    def after_delete(self, s: orm.Session, found: models.FloatingIP) -> None:
        # The floating IP's own port (and so its address) goes with it.
        self.core.ports.remove(s, found.floating_port_id)


def _port_details(port: models.Port | None) -> dict[str, Any] | None:
    """Neutron's ``fip-port-details``: a summary of the associated port, ``None`` when not associated."""
    if port is None:
        return None
    return {"name": port.name, "network_id": port.network_id, "mac_address": port.mac_address,
            "admin_state_up": port.admin_state_up, "status": port.status, "device_id": port.device_id,
            "device_owner": port.device_owner}
