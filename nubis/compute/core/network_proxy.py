"""Nova's network proxy APIs (deprecated; removed at microversion 2.36) over the network service.

``os-security-groups``, ``os-security-group-rules``, ``os-floating-ips``, ``os-floating-ip-pools``,
``os-networks`` and ``os-tenant-networks`` as Nova answers them with Neutron behind it: every call goes to
the network service *as the caller* (their token), so the network service's own visibility and policy
decide what the caller sees and may change, exactly as if they had called it directly. This module
translates shapes and error codes (Nova's, from its Neutron security group and floating IP drivers); it
keeps no state.
"""

from __future__ import annotations

import ipaddress
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.clients.network import NetworkClient
from nubis.common.context import RequestContext

# Nova's maximum for a security group's name and description (nova.network.security_group_api).
MAX_PROPERTY = 255
_PORTED = ("TCP", "UDP")


def _message(resp: Any) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    if isinstance(body, dict):
        err = body.get("NeutronError") or next(iter(body.values()), None)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(body)[:200]


def _is_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
    except ValueError:
        return False
    return True


def check_group_id(value: Any, what: str = "Security group id") -> str:
    """Nova's ``validate_id`` with Neutron: security group (and rule) ids are UUIDs; else 400."""
    if not isinstance(value, str | int) or not _is_uuid(value):
        raise exceptions.BadRequest(f"{what} should be uuid: {str(value)[:64]!r}.")
    return str(value)


def check_property(value: Any, name: str) -> str:
    """A security group ``name`` or ``description``: a non-blank string of at most 255 characters (400)."""
    if not isinstance(value, str):
        raise exceptions.BadRequest(f"Security group {name} is not a string or unicode.")
    if not value.strip():
        raise exceptions.BadRequest(f"Security group {name} cannot be empty.")
    if len(value) > MAX_PROPERTY:
        raise exceptions.BadRequest(f"Security group {name} should not be greater than {MAX_PROPERTY} characters.")
    return value


class NetworkProxy:
    """The proxy calls, each made with the caller's credentials through the compute service's network adapter."""

    def __init__(self, conf: cfg.ConfigOpts, client: NetworkClient | None) -> None:
        self.conf = conf
        self.client = client

    # -- plumbing ---------------------------------------------------------------------------------------
    def _call(self, ctx: RequestContext, method: str, *segments: Any, params: Mapping[str, Any] | None = None,
              body: Any = None) -> Any:
        if self.client is None or not self.client.available():
            raise exceptions.NotFound("This cloud has no network service, so this network proxy API is absent.")
        try:
            return self.client.request(method, *segments, params=params, body=body, caller=ctx)
        except (ks_exc.EndpointNotFound, ks_exc.ConnectionError) as exc:
            raise exceptions.ServiceUnavailable(f"The network service cannot be reached: {exc}") from None

    def _ok(self, resp: Any, not_found: str, conflict: type[exceptions.NubisError] = exceptions.BadRequest) -> Any:
        """The JSON of a 2xx answer; Nova's translation of the network service's errors otherwise."""
        if resp.status_code < 300:
            return resp.json() if resp.content else None
        message = _message(resp)
        if resp.status_code == 404:
            raise exceptions.NotFound(not_found)
        if resp.status_code == 403:
            raise exceptions.Forbidden(message)
        if resp.status_code == 409:
            raise conflict(message)
        if resp.status_code == 400:
            raise exceptions.BadRequest(message)
        raise exceptions.ServiceUnavailable(f"The network service answered {resp.status_code}: {message}")

    # -- security groups --------------------------------------------------------------------------------
    def _group_record(self, ctx: RequestContext, group_id: str) -> dict[str, Any]:
        resp = self._call(ctx, "GET", "security-groups", group_id)
        return self._ok(resp, f"Security group {group_id} not found.")["security_group"]

    def _remote_groups(self, ctx: RequestContext, groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The groups that ``groups``' rules name as their source, by id (those the caller can see)."""
        known = {g["id"]: g for g in groups}
        wanted = {r["remote_group_id"] for g in groups for r in g.get("security_group_rules") or []
                  if r.get("remote_group_id") and r["remote_group_id"] not in known}
        for group_id in wanted:
            resp = self._call(ctx, "GET", "security-groups", group_id)
            if resp.status_code == 200:
                known[group_id] = resp.json()["security_group"]
        return known

    @staticmethod
    def rule_view(rule: dict[str, Any], groups: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        """A Neutron ingress rule as Nova shows it (its ``_format_security_group_rule``)."""
        protocol = rule.get("protocol")
        low, high = rule.get("port_range_min"), rule.get("port_range_max")
        if protocol and low is None and high is None:
            low, high = (1, 65535) if str(protocol).upper() in _PORTED else (-1, -1)
        view: dict[str, Any] = {"id": rule["id"], "parent_group_id": rule["security_group_id"],
                                "ip_protocol": protocol, "from_port": low, "to_port": high, "group": {},
                                "ip_range": {}}
        if rule.get("remote_group_id"):
            source = groups.get(rule["remote_group_id"]) or {}
            view["group"] = {"name": source.get("name"), "tenant_id": source.get("project_id")}
            view["group"] = {k: v for k, v in view["group"].items() if v is not None}
        else:
            prefix = rule.get("remote_ip_prefix")
            view["ip_range"] = {"cidr": prefix or ("::/0" if rule.get("ethertype") == "IPv6" else "0.0.0.0/0")}
        return view

    def group_view(self, group: dict[str, Any], groups: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        """A Neutron security group as Nova shows it: only its ingress rules."""
        return {"id": group["id"], "name": group["name"], "description": group.get("description") or "",
                "tenant_id": group.get("project_id") or group.get("tenant_id") or "",
                "rules": [self.rule_view(r, groups) for r in group.get("security_group_rules") or []
                          if r.get("direction") == "ingress"]}

    def _views(self, ctx: RequestContext, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        known = self._remote_groups(ctx, groups)
        return [self.group_view(g, known) for g in groups]

    def list_groups(self, ctx: RequestContext, all_projects: bool = False) -> list[dict[str, Any]]:
        """The caller's project's groups; every project's for an admin asking ``all_tenants``."""
        params = {} if (all_projects and ctx.is_admin) else {"project_id": ctx.project_id}
        groups = self._ok(self._call(ctx, "GET", "security-groups", params=params), "No security groups.")
        return self._views(ctx, groups["security_groups"])

    def show_group(self, ctx: RequestContext, group_id: str) -> dict[str, Any]:
        return self._views(ctx, [self._group_record(ctx, check_group_id(group_id))])[0]

    def create_group(self, ctx: RequestContext, name: str, description: str) -> dict[str, Any]:
        body = {"security_group": {"name": name, "description": description}}
        # Neutron's 409 here is its quota: Nova's SecurityGroupLimitExceeded (403).
        made = self._ok(self._call(ctx, "POST", "security-groups", body=body), "Security group not found.",
                        conflict=exceptions.Forbidden)["security_group"]
        return self._views(ctx, [made])[0]

    def update_group(self, ctx: RequestContext, group_id: str, name: str, description: str) -> dict[str, Any]:
        check_group_id(group_id)
        body = {"security_group": {"name": name, "description": description}}
        done = self._ok(self._call(ctx, "PUT", "security-groups", group_id, body=body),
                        f"Security group {group_id} not found.")["security_group"]
        return self._views(ctx, [done])[0]

    def delete_group(self, ctx: RequestContext, group_id: str) -> None:
        """Delete; a group in use or the project's default is Nova's 400 (Neutron's 409)."""
        self._ok(self._call(ctx, "DELETE", "security-groups", check_group_id(group_id)),
                 f"Security group {group_id} not found.")

    # -- security group rules ---------------------------------------------------------------------------
    def create_rule(self, ctx: RequestContext, rule: dict[str, Any]) -> dict[str, Any]:
        """Nova's ``os-security-group-rules`` create: an ingress rule from a CIDR or a source group.

        ``rule`` holds ``parent_group_id`` and optionally ``ip_protocol``, ``from_port``, ``to_port``,
        ``cidr``, ``group_id``. 400 for bad values (Nova's checks), 404 for an unknown group, 400 for a rule
        the group has already.
        """
        parent = self._group_record(ctx, check_group_id(rule.get("parent_group_id"), "Parent group id"))
        source = rule.get("group_id")
        if source is not None:
            self._group_record(ctx, check_group_id(source, "Source group id"))
        values = _ingress(rule.get("ip_protocol"), rule.get("from_port"), rule.get("to_port"))
        if source is None and values is None:
            raise exceptions.BadRequest("Not enough parameters to build a valid rule.")
        neutron: dict[str, Any] = {"security_group_id": parent["id"], "direction": "ingress", "ethertype": "IPv4",
                                   "protocol": None, "port_range_min": None, "port_range_max": None}
        if values is not None:
            protocol, low, high = values
            neutron["protocol"] = protocol.lower()
            neutron["port_range_min"] = None if low == -1 else low
            neutron["port_range_max"] = None if high == -1 else high
        if source is not None:
            neutron["remote_group_id"] = source
        else:
            cidr = _cidr(rule.get("cidr"))
            neutron["remote_ip_prefix"] = cidr
            neutron["ethertype"] = "IPv6" if ":" in cidr else "IPv4"
        if _exists(parent, neutron):
            raise exceptions.BadRequest(f"This rule already exists in group {parent['id']}")
        made = self._ok(self._call(ctx, "POST", "security-group-rules", body={"security_group_rule": neutron}),
                        "Security group not found.", conflict=exceptions.Forbidden)["security_group_rule"]
        if source is None:
            # The network service keeps the network's address ("10.2.3.0/24"); Nova answers with the CIDR as
            # the request gave it ("10.2.3.124/24"), the same network.
            made = {**made, "remote_ip_prefix": neutron["remote_ip_prefix"]}
        return self.rule_view(made, self._remote_groups(ctx, [{**parent, "security_group_rules": [made]}]))

    def delete_rule(self, ctx: RequestContext, rule_id: str) -> None:
        check_group_id(rule_id, "Security group rule id")
        self._ok(self._call(ctx, "DELETE", "security-group-rules", rule_id),
                 f"Security group rule {rule_id} not found.")

    def server_groups(self, ctx: RequestContext, server_uuid: str) -> list[dict[str, Any]]:
        """The security groups of a server's ports (``GET /servers/{id}/os-security-groups``)."""
        if self.client is None or not self.client.available():
            return []
        ports = self._ok(self._call(ctx, "GET", "ports", params={"device_id": server_uuid}), "No ports.")["ports"]
        ids = sorted({g for p in ports if p.get("device_id") == server_uuid for g in p.get("security_groups") or []})
        groups = []
        for group_id in ids:
            resp = self._call(ctx, "GET", "security-groups", group_id)
            if resp.status_code == 200:
                groups.append(resp.json()["security_group"])
        return self._views(ctx, groups)

    # -- floating IPs -----------------------------------------------------------------------------------
    def _pool_names(self, ctx: RequestContext, network_ids: set[str]) -> dict[str, str]:
        names = {}
        for network_id in network_ids:
            resp = self._call(ctx, "GET", "networks", network_id)
            net = resp.json().get("network") if resp.status_code == 200 else None
            names[network_id] = (net or {}).get("name") or network_id
        return names

    def _fip_view(self, ctx: RequestContext, fip: dict[str, Any], pools: Mapping[str, str]) -> dict[str, Any]:
        instance_id = None
        if fip.get("port_id"):
            resp = self._call(ctx, "GET", "ports", fip["port_id"])
            port = resp.json().get("port") if resp.status_code == 200 else None
            if port and str(port.get("device_owner") or "").startswith("compute:"):
                instance_id = port.get("device_id") or None
        return {"id": fip["id"], "ip": fip["floating_ip_address"], "fixed_ip": fip.get("fixed_ip_address"),
                "instance_id": instance_id, "pool": pools.get(fip["floating_network_id"])}

    def _fip_views(self, ctx: RequestContext, fips: list[dict[str, Any]]) -> list[dict[str, Any]]:
        pools = self._pool_names(ctx, {f["floating_network_id"] for f in fips})
        return [self._fip_view(ctx, f, pools) for f in fips]

    def list_floating_ips(self, ctx: RequestContext) -> list[dict[str, Any]]:
        found = self._ok(self._call(ctx, "GET", "floatingips", params={"project_id": ctx.project_id}),
                         "No floating IPs.")["floatingips"]
        return self._fip_views(ctx, found)

    def show_floating_ip(self, ctx: RequestContext, fip_id: str) -> dict[str, Any]:
        resp = self._call(ctx, "GET", "floatingips", fip_id)
        return self._fip_views(ctx, [self._ok(resp, f"Floating IP not found for ID {fip_id}")["floatingip"]])[0]

    def pools(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """``os-floating-ip-pools``: the external networks the caller can see, by name."""
        nets = self._ok(self._call(ctx, "GET", "networks", params={"router:external": "true"}),
                        "No pools.")["networks"]
        return [{"name": n.get("name") or n["id"]} for n in nets if n.get("router:external")]

    def _pool_id(self, ctx: RequestContext, pool: str | None) -> str:
        """The external network a pool name (or id) means; with none given, the only one there is (404 else)."""
        nets = self._ok(self._call(ctx, "GET", "networks", params={"router:external": "true"}),
                        "No pools.")["networks"]
        nets = [n for n in nets if n.get("router:external")]
        if pool is None:
            if len(nets) == 1:
                return str(nets[0]["id"])
            raise exceptions.NotFound("Floating IP pool not found: give a pool (several or no external networks).")
        found = [n for n in nets if n.get("name") == pool] or [n for n in nets if n["id"] == pool]
        if len(found) > 1:
            raise exceptions.Conflict(f"Multiple floating IP pools match name '{pool}'.")
        if not found:
            raise exceptions.NotFound(f"Floating IP pool not found: {pool[:255]}.")
        return str(found[0]["id"])

    def allocate(self, ctx: RequestContext, pool: str | None) -> dict[str, Any]:
        """A new floating IP from ``pool``; 404 when the pool has no address left, 403 over quota."""
        body = {"floatingip": {"floating_network_id": self._pool_id(ctx, pool)}}
        resp = self._call(ctx, "POST", "floatingips", body=body)
        if resp.status_code == 409 and "quota" not in _message(resp).lower():
            raise exceptions.NotFound(f"No more floating IPs in pool {pool}: {_message(resp)}")
        made = self._ok(resp, "Floating IP pool not found.", conflict=exceptions.Forbidden)["floatingip"]
        return self._fip_views(ctx, [made])[0]

    def release(self, ctx: RequestContext, fip_id: str) -> None:
        self._ok(self._call(ctx, "DELETE", "floatingips", fip_id), f"Floating IP not found for ID {fip_id}")

    def _by_address(self, ctx: RequestContext, address: str) -> dict[str, Any]:
        found = self._ok(self._call(ctx, "GET", "floatingips", params={"floating_ip_address": address}),
                         "No floating IPs.")["floatingips"]
        found = [f for f in found if f.get("floating_ip_address") == address]
        if not found:
            raise exceptions.NotFound(f"Floating IP not found for address {address}.")
        return found[0]

    def associate(self, ctx: RequestContext, server_uuid: str, address: str, fixed_address: str | None) -> None:
        """``addFloatingIp``: point the floating IP at the server's port holding ``fixed_address`` (or its
        first IPv4 address). It moves from another server if it was elsewhere, as in Nova."""
        ports = [p for p in self._ok(self._call(ctx, "GET", "ports", params={"device_id": server_uuid}),
                                     "No ports.")["ports"] if p.get("device_id") == server_uuid]
        pairs = [(p["id"], ip["ip_address"]) for p in ports for ip in p.get("fixed_ips") or []]
        if not pairs:
            raise exceptions.BadRequest(f"No fixed IPs associated to instance {server_uuid}.")
        if fixed_address is not None:
            chosen = [pair for pair in pairs if pair[1] == fixed_address]
            if not chosen:
                raise exceptions.BadRequest("Specified fixed address not assigned to instance.")
        else:
            chosen = [pair for pair in pairs if ipaddress.ip_address(pair[1]).version == 4]
            if not chosen:
                raise exceptions.BadRequest(f"Unable to associate floating IP {address} to any fixed IPs for "
                                            f"instance {server_uuid}: it has no IPv4 address.")
        fip = self._by_address(ctx, address)
        port_id, fixed = chosen[0]
        if fip.get("port_id") == port_id and fip.get("fixed_ip_address") == fixed:
            return
        if fip.get("port_id"):  # moving: Neutron refuses to re-point an associated address in one step
            self._ok(self._call(ctx, "PUT", "floatingips", fip["id"], body={"floatingip": {"port_id": None}}),
                     f"Floating IP not found for address {address}.")
        resp = self._call(ctx, "PUT", "floatingips", fip["id"],
                          body={"floatingip": {"port_id": port_id, "fixed_ip_address": fixed}})
        if resp.status_code >= 300 and resp.status_code != 404:
            raise exceptions.BadRequest(f"Unable to associate floating IP {address} to fixed IP {fixed} for "
                                        f"instance {server_uuid}: {_message(resp)}")
        self._ok(resp, f"Floating IP not found for address {address}.")

    def disassociate(self, ctx: RequestContext, server_uuid: str, address: str) -> None:
        """``removeFloatingIp``: 409 unless the address points at one of this server's ports."""
        fip = self._by_address(ctx, address)
        port = None
        if fip.get("port_id"):
            resp = self._call(ctx, "GET", "ports", fip["port_id"])
            port = resp.json().get("port") if resp.status_code == 200 else None
        if not port or port.get("device_id") != server_uuid:
            raise exceptions.Conflict(f"Floating IP {address} is not associated with instance {server_uuid}.")
        self._ok(self._call(ctx, "PUT", "floatingips", fip["id"], body={"floatingip": {"port_id": None}}),
                 f"Floating IP not found for address {address}.")

    # -- networks ---------------------------------------------------------------------------------------
    def list_networks(self, ctx: RequestContext) -> list[dict[str, Any]]:
        return self._ok(self._call(ctx, "GET", "networks"), "No networks.")["networks"]

    def show_network(self, ctx: RequestContext, network_id: str) -> dict[str, Any]:
        resp = self._call(ctx, "GET", "networks", network_id)
        return self._ok(resp, f"Network {network_id} could not be found.")["network"]


def _ingress(protocol: Any, low: Any, high: Any) -> tuple[str, int, int] | None:
    """Nova's ``_new_ingress_rule``: (protocol, from, to) checked, or None when any of them is missing."""
    if protocol is None or low is None or high is None:
        return None
    protocol = str(protocol)
    try:
        low, high = int(low), int(high)
    except (TypeError, ValueError):
        if protocol.upper() == "ICMP":
            raise exceptions.BadRequest("Type and Code must be integers for ICMP protocol type.") from None
        raise exceptions.BadRequest("To and From ports must be integers.") from None
    if protocol.upper() not in ("TCP", "UDP", "ICMP"):
        raise exceptions.BadRequest(f"Invalid IP protocol {protocol[:32]}: use tcp, udp or icmp.")
    if protocol.upper() in _PORTED and low > high:
        raise exceptions.BadRequest(f"Invalid port range {low}:{high}. Former value cannot be greater than the "
                                    "later.")
    if protocol.upper() in _PORTED and (low < 1 or high > 65535):
        raise exceptions.BadRequest(f"Invalid port range {low}:{high}. Valid {protocol.upper()} ports should be "
                                    "between 1-65535.")
    if protocol.upper() == "ICMP" and not (-1 <= low <= 255 and -1 <= high <= 255):
        raise exceptions.BadRequest(f"Invalid port range {low}:{high}. For ICMP, the type:code must be valid.")
    return protocol, low, high


def _cidr(value: Any) -> str:
    if value is None or value == "":
        return "0.0.0.0/0"
    try:
        ipaddress.ip_network(str(value), strict=False)
        return str(value)  # as given: Nova (and Neutron) keep host bits, "10.2.3.124/24" stays so
    except ValueError:
        raise exceptions.BadRequest(f"Invalid cidr {str(value)[:64]!r}.") from None


def _exists(group: dict[str, Any], rule: dict[str, Any]) -> bool:
    """Whether ``group`` has ``rule`` already (Nova's ``rule_exists``: same protocol, ports, source)."""
    keys = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_group_id")
    for have in group.get("security_group_rules") or []:
        if any((have.get(k) or None) != (rule.get(k) or None) for k in keys):
            continue
        if (have.get("remote_ip_prefix") or None) == (rule.get("remote_ip_prefix") or None):
            return True
        defaults = {"0.0.0.0/0", "::/0", None}
        if have.get("remote_ip_prefix") in defaults and rule.get("remote_ip_prefix") in defaults:
            return True
    return False
