"""Nova's deprecated network proxies, answered as Nova does with Neutron behind it (404 from 2.36 on).

``/os-security-groups``, ``/os-security-group-rules``, ``/os-floating-ips``, ``/os-floating-ip-pools``,
``/os-networks``, ``/os-tenant-networks``; also ``GET /servers/{id}/os-security-groups`` (never removed)
and the ``addFloatingIp``/``removeFloatingIp`` server actions (until 2.43). The core
(``nubis.compute.core.network_proxy``) calls the network service as the caller.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import authorize, body_of, context, core, is_true, until
from nubis.compute.api.servers import owned_server
from nubis.compute.core import network_proxy
from nubis.compute.core.network_proxy import NetworkProxy

LAST = Version(2, 35)  # the proxies' last microversion (2.36 removed them)
LAST_FLOATING_ACTION = Version(2, 43)  # addFloatingIp/removeFloatingIp went at 2.44


def _proxy(req: router.Request) -> NetworkProxy:
    proxy = core(req).network_proxy
    assert proxy is not None
    return proxy


def _member(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        raise exceptions.BadRequest(f"The request body must hold a '{name}' object.")
    return value


def _name_and_description(req: router.Request) -> tuple[str, str]:
    group = _member(body_of(req), "security_group")
    return (network_proxy.check_property(group.get("name"), "name"),
            network_proxy.check_property(group.get("description"), "description"))


# -- security groups ------------------------------------------------------------------------------------
@until(LAST)
def list_security_groups(req: router.Request) -> webob.Response:
    authorize(req, "os-security-groups:get")
    groups = _proxy(req).list_groups(context(req), is_true(req.GET.get("all_tenants")))
    offset = req.GET.get("offset")
    if offset is not None:
        if not offset.isdigit():
            raise exceptions.BadRequest("Invalid input for field/attribute offset: a non-negative integer.")
        groups = groups[int(offset):]
    limit = req.GET.get("limit")
    if limit is not None:
        if not limit.isdigit():
            raise exceptions.BadRequest("Invalid input for field/attribute limit: a non-negative integer.")
        groups = groups[:int(limit)]
    return router.json_response({"security_groups": groups})


@until(LAST)
def create_security_group(req: router.Request) -> webob.Response:
    authorize(req, "os-security-groups:create")
    name, description = _name_and_description(req)
    return router.json_response({"security_group": _proxy(req).create_group(context(req), name, description)})


@until(LAST)
def show_security_group(req: router.Request, security_group_id: str) -> webob.Response:
    authorize(req, "os-security-groups:show")
    return router.json_response({"security_group": _proxy(req).show_group(context(req), security_group_id)})


@until(LAST)
def update_security_group(req: router.Request, security_group_id: str) -> webob.Response:
    authorize(req, "os-security-groups:update")
    network_proxy.check_group_id(security_group_id)
    name, description = _name_and_description(req)
    group = _proxy(req).update_group(context(req), security_group_id, name, description)
    return router.json_response({"security_group": group})


@until(LAST)
def delete_security_group(req: router.Request, security_group_id: str) -> webob.Response:
    authorize(req, "os-security-groups:delete")
    _proxy(req).delete_group(context(req), security_group_id)
    return router.empty_response(202)


@until(LAST)
def create_security_group_rule(req: router.Request) -> webob.Response:
    authorize(req, "os-security-groups:rule:create")
    rule = _member(body_of(req), "security_group_rule")
    return router.json_response({"security_group_rule": _proxy(req).create_rule(context(req), rule)})


@until(LAST)
def delete_security_group_rule(req: router.Request, rule_id: str) -> webob.Response:
    authorize(req, "os-security-groups:rule:delete")
    _proxy(req).delete_rule(context(req), rule_id)
    return router.empty_response(202)


def server_security_groups(req: router.Request, server_id: str) -> webob.Response:
    inst = owned_server(req, server_id, "os-security-groups:list")
    return router.json_response({"security_groups": _proxy(req).server_groups(context(req), inst.uuid)})


# -- floating IPs ---------------------------------------------------------------------------------------
@until(LAST)
def list_floating_ips(req: router.Request) -> webob.Response:
    authorize(req, "os-floating-ips:list")
    return router.json_response({"floating_ips": _proxy(req).list_floating_ips(context(req))})


@until(LAST)
def create_floating_ip(req: router.Request) -> webob.Response:
    authorize(req, "os-floating-ips:create")
    body = body_of(req) if req.body else {}
    pool = body.get("pool")
    if pool is not None and (not isinstance(pool, str) or not 0 < len(pool) <= 255):
        raise exceptions.BadRequest("Invalid input for field/attribute pool: a pool name (1 to 255 characters).")
    return router.json_response({"floating_ip": _proxy(req).allocate(context(req), pool)})


@until(LAST)
def show_floating_ip(req: router.Request, floating_ip_id: str) -> webob.Response:
    authorize(req, "os-floating-ips:show")
    return router.json_response({"floating_ip": _proxy(req).show_floating_ip(context(req), floating_ip_id)})


@until(LAST)
def delete_floating_ip(req: router.Request, floating_ip_id: str) -> webob.Response:
    authorize(req, "os-floating-ips:delete")
    _proxy(req).release(context(req), floating_ip_id)
    return router.empty_response(202)


@until(LAST)
def list_pools(req: router.Request) -> webob.Response:
    authorize(req, "os-floating-ip-pools:list")
    return router.json_response({"floating_ip_pools": _proxy(req).pools(context(req))})


def _address(arg: Any, field: str, required: bool) -> str | None:
    value = arg.get(field)
    if value is None and not required:
        return None
    try:
        ipaddress.ip_address(value if isinstance(value, str) else "")
    except ValueError:
        raise exceptions.BadRequest(f"Invalid input for field/attribute {field}. Value: {str(value)[:64]!r} is not "
                                    "an IP address.") from None
    return str(value)


def _floating_arg(req: router.Request, arg: Any, allowed: set[str]) -> dict[str, Any]:
    if req.version is not None and req.version > LAST_FLOATING_ACTION:
        raise exceptions.NotFound("This action was removed after microversion 2.43: use the network API.")
    if not isinstance(arg, dict) or set(arg) - allowed:
        raise exceptions.BadRequest(f"Invalid input: give {{\"address\": <floating IP>}} (fields: "
                                    f"{', '.join(sorted(allowed))}).")
    return arg


def add_floating_ip(req: router.Request, inst: Any, arg: Any) -> None:
    """The ``addFloatingIp`` server action (the server's policy was checked by the action table)."""
    arg = _floating_arg(req, arg, {"address", "fixed_address"})
    address = _address(arg, "address", True)
    assert address is not None
    _proxy(req).associate(context(req), inst.uuid, address, _address(arg, "fixed_address", False))


def remove_floating_ip(req: router.Request, inst: Any, arg: Any) -> None:
    """The ``removeFloatingIp`` server action."""
    arg = _floating_arg(req, arg, {"address"})
    address = _address(arg, "address", True)
    assert address is not None
    _proxy(req).disassociate(context(req), inst.uuid, address)


# -- networks -------------------------------------------------------------------------------------------
# The nova-network fields Nova still shows with Neutron behind it: only id and label carry a value.
_NETWORK_FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6",
                   "label", "netmask_v6")
_ADMIN_FIELDS = ("created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge", "vlan",
                 "vpn_public_address", "vpn_public_port", "vpn_private_address", "dhcp_start", "project_id",
                 "host", "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu", "dhcp_server",
                 "enable_dhcp", "share_address")


def _network_view(req: router.Request, net: dict[str, Any]) -> dict[str, Any]:
    fields = _NETWORK_FIELDS + (_ADMIN_FIELDS if context(req).is_admin else ())
    view: dict[str, Any] = dict.fromkeys(fields)
    view.update(id=net["id"], label=net.get("name") or "")
    return view


@until(LAST)
def list_networks(req: router.Request) -> webob.Response:
    authorize(req, "os-networks:list")
    return router.json_response({"networks": [_network_view(req, n)
                                              for n in _proxy(req).list_networks(context(req))]})


@until(LAST)
def show_network(req: router.Request, network_id: str) -> webob.Response:
    authorize(req, "os-networks:view")
    return router.json_response({"network": _network_view(req, _proxy(req).show_network(context(req), network_id))})


def _tenant_network(net: dict[str, Any]) -> dict[str, Any]:
    return {"id": net["id"], "label": net.get("name") or "", "cidr": None}


@until(LAST)
def list_tenant_networks(req: router.Request) -> webob.Response:
    authorize(req, "os-tenant-networks:list")
    return router.json_response({"networks": [_tenant_network(n) for n in _proxy(req).list_networks(context(req))]})


@until(LAST)
def show_tenant_network(req: router.Request, network_id: str) -> webob.Response:
    authorize(req, "os-tenant-networks:show")
    return router.json_response({"network": _tenant_network(_proxy(req).show_network(context(req), network_id))})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-security-groups": {"GET": list_security_groups, "POST": create_security_group},
        f"{prefix}/os-security-groups/{{security_group_id}}": {
            "GET": show_security_group, "PUT": update_security_group, "DELETE": delete_security_group},
        f"{prefix}/os-security-group-rules": {"POST": create_security_group_rule},
        f"{prefix}/os-security-group-rules/{{rule_id}}": {"DELETE": delete_security_group_rule},
        f"{prefix}/servers/{{server_id}}/os-security-groups": {"GET": server_security_groups},
        f"{prefix}/os-floating-ips": {"GET": list_floating_ips, "POST": create_floating_ip},
        f"{prefix}/os-floating-ips/{{floating_ip_id}}": {"GET": show_floating_ip, "DELETE": delete_floating_ip},
        f"{prefix}/os-floating-ip-pools": {"GET": list_pools},
        f"{prefix}/os-networks": {"GET": list_networks},
        f"{prefix}/os-networks/{{network_id}}": {"GET": show_network},
        f"{prefix}/os-tenant-networks": {"GET": list_tenant_networks},
        f"{prefix}/os-tenant-networks/{{network_id}}": {"GET": show_tenant_network},
    }
