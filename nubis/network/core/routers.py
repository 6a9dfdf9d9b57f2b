"""Routers: an external gateway (with or without SNAT), interfaces on tenant subnets, extra routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.network.core import common, errors, ipam, rbac
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

INTERFACE = "network:router_interface"
GATEWAY = "network:router_gateway"


def _interface_ports(s: orm.Session, router_id: str) -> list[models.Port]:
    return list(s.scalars(sa.select(models.Port).where(models.Port.device_id == router_id,
                                                       models.Port.device_owner == INTERFACE)))


def _port_ips(s: orm.Session, port_ids: Sequence[str]) -> list[models.IPAllocation]:
    if not port_ids:
        return []
    return list(s.scalars(sa.select(models.IPAllocation).where(models.IPAllocation.port_id.in_(list(port_ids)))))


def _route(route: Any) -> dict[str, str]:
    """One extra route, normalised; 400 unless it is exactly a destination CIDR and a nexthop address."""
    if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
        raise errors.invalid(f"route {route!r} needs exactly 'destination' and 'nexthop'.")
    return {"destination": str(ipam.network_of(route["destination"])),
            "nexthop": str(ipam.address(route["nexthop"], "nexthop"))}


def _refuse_dvr_and_ha(attrs: dict[str, Any]) -> None:
    """Every router here is centralized and single: ``distributed``/``ha`` may only be (re)set to false."""
    for flag in ("distributed", "ha"):
        if flag in attrs and common.as_bool(attrs.pop(flag), flag):
            raise errors.bad_request("BadRequest", f"Bad router request: {flag} routers are not supported by "
                                                   f"this cloud; leave {flag} false.")


class Routers(Resources):
    model = models.Router
    kind = "Router"
    member = "router"
    collection = "routers"
    sortable = (*Resources.sortable, "status", "admin_state_up")

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.Router]) -> list[dict[str, Any]]:
        gw_ports = [r.gw_port_id for r in rows if r.gw_port_id]
        gw_ips: dict[str, list[dict[str, str]]] = {}
        for a in _port_ips(s, gw_ports):
            gw_ips.setdefault(a.port_id, []).append({"subnet_id": a.subnet_id, "ip_address": a.ip_address})
        nets = dict(s.execute(sa.select(models.Port.id, models.Port.network_id).where(
            models.Port.id.in_(gw_ports))).tuples().all()) if gw_ports else {}
        tags = common.tags_of(s, [r.id for r in rows])
        out = []
        for r in rows:
            view = common.standard_view(r, tags[r.id])
            gateway = None
            if r.gw_port_id:
                gateway = {"network_id": nets.get(r.gw_port_id), "enable_snat": r.enable_snat,
                           "external_fixed_ips": gw_ips.get(r.gw_port_id, [])}
            view.update({"admin_state_up": r.admin_state_up, "status": r.status, "external_gateway_info": gateway,
                         "routes": r.routes, "availability_zone_hints": [], "availability_zones": ["nova"],
                         "flavor_id": None})
            if caller.is_admin:  # Neutron's get_router:distributed and get_router:ha are the admin's
                view.update({"distributed": False, "ha": False})
            out.append(view)
        return out

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("name", "description", "admin_state_up", "external_gateway_info",
                                      "project_id", "tenant_id", "availability_zone_hints", "distributed", "ha"),
                              self.member)
        project = common.owner_for_create(caller, attrs)
        _refuse_dvr_and_ha(attrs)
        with self.core.db.writer() as s:
            self.core.quotas.check(s, project, "router")
            router = models.Router(id=common.types.new_uuid(), project_id=project, routes=[])
            common.apply_standard(router, attrs, self.member)
            if "admin_state_up" in attrs:
                router.admin_state_up = common.as_bool(attrs["admin_state_up"], "admin_state_up")
            s.add(router)
            s.flush()
            if attrs.get("external_gateway_info"):
                self._set_gateway(s, caller, router, attrs["external_gateway_info"])
            view = self.views(s, caller, [router])[0]
        self.core.notify("router.create", view)
        return view

    def _set_gateway(self, s: orm.Session, caller: Caller, router: models.Router, info: Any) -> None:
        if not isinstance(info, dict) or not info.get("network_id"):
            raise errors.invalid("external_gateway_info needs network_id.")
        common.reject_unknown(info, ("network_id", "enable_snat", "external_fixed_ips", "qos_policy_id"),
                              "external_gateway_info")
        net = self.core.networks.row(s, caller, info["network_id"])
        if not rbac.grants(s, net, router.project_id, rbac.EXTERNAL):
            raise errors.bad_request("BadRequest", f"Bad router request: Network {net.id} is not an external "
                                                   "network; pick one with router:external set.")
        if "enable_snat" in info:
            router.enable_snat = common.as_bool(info["enable_snat"], "enable_snat")
        old = s.get(models.Port, router.gw_port_id) if router.gw_port_id else None
        if old is not None and old.network_id == net.id and "external_fixed_ips" not in info:
            return  # same network: only the SNAT flag changed
        if old is not None:
            self._refuse_if_floating_ips(s, router)
            router.gw_port_id = None
            s.flush()
            self.core.ports.remove(s, old.id)
        port = self.core.ports.create_in(s, self.core.internal_caller(), "", {
            "network_id": net.id, "device_id": router.id, "device_owner": GATEWAY, "name": "",
            **({"fixed_ips": info["external_fixed_ips"]} if info.get("external_fixed_ips") else {})})
        router.gw_port_id = port["id"]

    @staticmethod
    def _refuse_if_floating_ips(s: orm.Session, router: models.Router) -> None:
        used = s.scalar(sa.select(sa.func.count()).select_from(models.FloatingIP)
                        .where(models.FloatingIP.router_id == router.id))
        if used:
            raise errors.conflict("RouterExternalGatewayInUseByFloatingIp",
                                  f"Gateway cannot be updated for router {router.id}, since a gateway to external "
                                  f"network is required by one or more floating IPs ({used}).")

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("name", "description", "admin_state_up", "external_gateway_info", "routes",
                                      "distributed", "ha"), self.member)
        with self.core.db.writer() as s:
            router = self.owned_row(s, caller, ident)
            _refuse_dvr_and_ha(attrs)
            common.check_revision(router, if_match, "router")
            common.apply_standard(router, attrs, self.member)
            if "admin_state_up" in attrs:
                router.admin_state_up = common.as_bool(attrs["admin_state_up"], "admin_state_up")
            if "external_gateway_info" in attrs:
                if attrs["external_gateway_info"]:
                    self._set_gateway(s, caller, router, attrs["external_gateway_info"])
                elif router.gw_port_id:
                    self._refuse_if_floating_ips(s, router)
                    port_id, router.gw_port_id = router.gw_port_id, None
                    s.flush()
                    self.core.ports.remove(s, port_id)
            if "routes" in attrs:
                router.routes = self._routes(s, router, attrs["routes"])
            common.touch(router)
            view = self.views(s, caller, [router])[0]
        self.core.notify("router.update", view)
        return view

    @staticmethod
    def _routes(s: orm.Session, router: models.Router, value: Any) -> list[dict[str, str]]:
        connected = [ipam.network_of(c) for c in s.scalars(
            sa.select(models.Subnet.cidr).join(models.IPAllocation, models.IPAllocation.subnet_id == models.Subnet.id)
            .join(models.Port, models.Port.id == models.IPAllocation.port_id)
            .where(models.Port.device_id == router.id))]
        routes = []
        for route in common.as_list(value, "routes"):
            parsed = _route(route)
            if not any(ipam.address(parsed["nexthop"]) in c for c in connected):
                raise errors.bad_request("InvalidRoutes", f"Invalid format for routes: {route}, the nexthop is not "
                                                          "connected with router.")
            routes.append(parsed)
        return routes

    def change_extraroutes(self, caller: Caller, ident: str, body: Any, add: bool) -> dict[str, Any]:
        """Add or remove some extra routes in one step (extraroute-atomic); the router with all its routes.

        ``body`` is ``{"router": {"routes": [{"destination", "nexthop"}, ...]}}``; adding a route the router
        has, or removing one it lacks, changes nothing.
        """
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("routes",), self.member)
        if "routes" not in attrs:
            raise errors.invalid("Send {\"router\": {\"routes\": [...]}} to change a router's extra routes.")
        with self.core.db.writer() as s:
            router = self.owned_row(s, caller, ident)
            if add:
                given = self._routes(s, router, attrs["routes"])
                routes = list(router.routes) + [r for r in given if r not in router.routes]
            else:
                given = [_route(r) for r in common.as_list(attrs["routes"], "routes")]
                routes = [r for r in router.routes if r not in given]
            if routes != router.routes:
                router.routes = [dict(r) for r in {(r["destination"], r["nexthop"]): r for r in routes}.values()]
                common.touch(router)
            view = self.views(s, caller, [router])[0]
        self.core.notify("router.update", view)
        return view

    def before_delete(self, s: orm.Session, caller: Caller, found: models.Router) -> None:
        interfaces = _interface_ports(s, found.id)
        if interfaces:
            raise errors.conflict("RouterInUse", f"Router {found.id} still has ports ({len(interfaces)} "
                                                 "interfaces); remove them first.")
        s.execute(sa.update(models.FloatingIP).where(models.FloatingIP.router_id == found.id)
                  .values(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN"))
        if found.gw_port_id:
            port_id, found.gw_port_id = found.gw_port_id, None
            s.flush()
            self.core.ports.remove(s, port_id)

    # -- interfaces -----------------------------------------------------------------------------
    def add_interface(self, caller: Caller, ident: str, body: Any) -> dict[str, Any]:
        info = self._interface_info(body)
        with self.core.db.writer() as s:
            router = self.owned_row(s, caller, ident)
            attached = {a.subnet_id for a in _port_ips(s, [p.id for p in _interface_ports(s, router.id)])}
            if "port_id" in info:
                port = self.core.ports.owned_row(s, caller, info["port_id"])
                if port.device_id or port.device_owner:
                    raise errors.conflict("PortInUse", f"Unable to complete operation on port {port.id} for network "
                                                       f"{port.network_id}. Port already has an attached device "
                                                       f"{port.device_id}.")
                ips = _port_ips(s, [port.id])
                if not ips:
                    raise errors.bad_request("BadRequest", f"Bad router request: Router port {port.id} must have "
                                                           "at least one fixed IP.")
                port.device_id, port.device_owner = router.id, INTERFACE
                subnet_ids = [a.subnet_id for a in ips]
                port_id, network_id = port.id, port.network_id
            else:
                subnet = self.core.subnets.row(s, caller, info["subnet_id"])
                if not subnet.gateway_ip:
                    raise errors.bad_request("BadRequest", f"Bad router request: Subnet {subnet.id} does not have "
                                                           "a gateway IP; set one or attach a port instead.")
                subnet_ids, network_id = [subnet.id], subnet.network_id
            for sid in subnet_ids:
                if sid in attached:
                    raise errors.bad_request("BadRequest", f"Bad router request: Router already has a port on "
                                                           f"subnet {sid}.")
                self._refuse_overlap(s, router.id, sid, attached)
            if "subnet_id" in info:
                port = s.get(models.Port, self.core.ports.create_in(s, self.core.internal_caller(), router.project_id, {
                    "network_id": network_id, "device_id": router.id, "device_owner": INTERFACE, "name": "",
                    "fixed_ips": [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}]})["id"])
                assert port is not None
                port_id = port.id
            port.status = "ACTIVE"
            common.touch(router)
        result = {"id": router.id, "tenant_id": router.project_id, "project_id": router.project_id,
                  "port_id": port_id, "network_id": network_id, "subnet_id": subnet_ids[0], "subnet_ids": subnet_ids}
        self.core.notify("router.interface.create", result)
        return result

    @staticmethod
    def _refuse_overlap(s: orm.Session, router_id: str, subnet_id: str, attached: set[str]) -> None:
        new = s.get(models.Subnet, subnet_id)
        assert new is not None
        for other in attached:
            old = s.get(models.Subnet, other)
            if old is not None and ipam.network_of(old.cidr).overlaps(ipam.network_of(new.cidr)):
                raise errors.bad_request("BadRequest", f"Bad router request: Cidr {new.cidr} of subnet {new.id} "
                                                       f"overlaps with cidr {old.cidr} of subnet {old.id}.")

    @staticmethod
    def _interface_info(body: Any) -> dict[str, str]:
        if not isinstance(body, dict) or not ({"subnet_id", "port_id"} & set(body)):
            raise errors.bad_request("BadRequest", "Bad router request: Either subnet_id or port_id must be "
                                                   "specified.")
        if "subnet_id" in body and "port_id" in body:
            raise errors.bad_request("BadRequest", "Bad router request: Cannot specify both subnet-id and port-id.")
        return {k: str(v) for k, v in body.items() if k in ("subnet_id", "port_id")}

    def remove_interface(self, caller: Caller, ident: str, body: Any) -> dict[str, Any]:
        info = self._interface_info(body)
        with self.core.db.writer() as s:
            router = self.owned_row(s, caller, ident)
            ports = _interface_ports(s, router.id)
            ips = _port_ips(s, [p.id for p in ports])
            if "port_id" in info:
                port = next((p for p in ports if p.id == info["port_id"]), None)
                if port is None:
                    raise errors.exceptions.NotFound(f"Router {router.id} does not have an interface with id "
                                                     f"{info['port_id']}", "RouterInterfaceNotFound")
            else:
                holder = next((a.port_id for a in ips if a.subnet_id == info["subnet_id"]), None)
                if holder is None:
                    raise errors.exceptions.NotFound(f"Router {router.id} has no interface on subnet "
                                                     f"{info['subnet_id']}", "RouterInterfaceNotFoundForSubnet")
                port = next(p for p in ports if p.id == holder)
            subnet_ids = [a.subnet_id for a in ips if a.port_id == port.id]
            in_use = s.scalar(sa.select(sa.func.count()).select_from(models.FloatingIP).join(
                models.IPAllocation, models.IPAllocation.port_id == models.FloatingIP.port_id).where(
                models.FloatingIP.router_id == router.id, models.IPAllocation.subnet_id.in_(subnet_ids)))
            if in_use:
                raise errors.conflict("RouterInterfaceInUseByFloatingIP",
                                      f"Router interface for subnet {subnet_ids[0]} on router {router.id} cannot be "
                                      f"deleted, as it is required by one or more floating IPs ({in_use}).")
            port_id, network_id = port.id, port.network_id
            self.core.ports.remove(s, port.id)
            common.touch(router)
        result = {"id": router.id, "tenant_id": router.project_id, "project_id": router.project_id,
                  "port_id": port_id, "network_id": network_id, "subnet_id": subnet_ids[0] if subnet_ids else None,
                  "subnet_ids": subnet_ids}
        self.core.notify("router.interface.delete", result)
        return result
