"""What else hangs off a server: its action history, network interfaces and addresses."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import authorize, context, core, version_of
from nubis.compute.api.servers import owned_server, shown
from nubis.compute.api.views import instance_actions as action_views


def _acted_server(req: router.Request, server_id: str, rule: str) -> None:
    """The server whose actions are asked for: from 2.21 a deleted one too (Nova reads deleted instances)."""
    inst, _ = core(req).servers.get(context(req), server_id, read_deleted=version_of(req) >= Version(2, 21))
    authorize(req, rule, {"project_id": inst.project_id})


def list_instance_actions(req: router.Request, server_id: str) -> webob.Response:
    _acted_server(req, server_id, "os-instance-actions")
    version = version_of(req)
    return router.json_response({"instanceActions": [
        action_views.action(a, version) for a in core(req).instances.actions(server_id)]})


def show_instance_action(req: router.Request, server_id: str, request_id: str) -> webob.Response:
    _acted_server(req, server_id, "os-instance-actions:show")
    found = next((a for a in core(req).instances.actions(server_id) if a.request_id == request_id), None)
    if found is None:
        raise exceptions.NotFound(f"Action for request_id {request_id[:255]} on instance {server_id} not found")
    return router.json_response({"instanceAction": action_views.with_events(found, version_of(req))})


def interfaces(req: router.Request, server_id: str) -> webob.Response:
    owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "POST":
        raise exceptions.BadRequest("Attaching an interface to a running server is not supported yet: boot the "
                                    "server with the network (or port) it needs.")
    network = core(req).servers.network
    return router.json_response({"interfaceAttachments": network.interface_attachments(server_id) if network else []})


def _plain_addresses(req: router.Request, server_id: str, rule: str) -> dict[str, list[dict[str, object]]]:
    """The server's addresses by network label, each as ``{"version", "addr"}`` (os-server-ips' shape)."""
    owned_server(req, server_id, rule)
    addresses = shown(req, server_id).get("addresses") or {}
    return {net: [{"version": a["version"], "addr": a["addr"]} for a in addrs] for net, addrs in addresses.items()}


def list_ips(req: router.Request, server_id: str) -> webob.Response:
    return router.json_response({"addresses": _plain_addresses(req, server_id, "ips:index")})


def show_ips(req: router.Request, server_id: str, network_label: str) -> webob.Response:
    addresses = _plain_addresses(req, server_id, "ips:show")
    if network_label not in addresses:
        raise exceptions.NotFound(f"Instance is not a member of specified network {network_label[:255]}.")
    return router.json_response({network_label: addresses[network_label]})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/servers/{{server_id}}/os-instance-actions": {"GET": list_instance_actions},
        f"{prefix}/servers/{{server_id}}/os-instance-actions/{{request_id}}": {"GET": show_instance_action},
        f"{prefix}/servers/{{server_id}}/os-interface": {"GET": interfaces, "POST": interfaces},
        f"{prefix}/servers/{{server_id}}/ips": {"GET": list_ips},
        f"{prefix}/servers/{{server_id}}/ips/{{network_label}}": {"GET": show_ips},
    }
