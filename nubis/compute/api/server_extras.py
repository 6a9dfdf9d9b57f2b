"""What else hangs off a server: its action history, volume attachments and network interfaces."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.common import exceptions
from nubis.compute.api.common import core
from nubis.compute.api.servers import owned_server


def list_instance_actions(req: router.Request, server_id: str) -> webob.Response:
    owned_server(req, server_id, "os-instance-actions")
    actions = [{"action": a.action, "instance_uuid": a.instance_uuid, "request_id": a.request_id,
                "user_id": a.user_id, "project_id": a.project_id, "start_time": a.start_time.isoformat(),
                "message": a.message, "updated_at": (a.finish_time or a.start_time).isoformat()}
               for a in core(req).instances.actions(server_id)]
    return router.json_response({"instanceActions": actions})


def volume_attachments(req: router.Request, server_id: str) -> webob.Response:
    owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "POST":
        raise exceptions.BadRequest("Volumes cannot be attached: this cloud has no block storage service.")
    return router.json_response({"volumeAttachments": []})


def interfaces(req: router.Request, server_id: str) -> webob.Response:
    owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")
    if req.method == "POST":
        raise exceptions.BadRequest("Attaching an interface to a running server is not supported yet: boot the "
                                    "server with the network (or port) it needs.")
    network = core(req).servers.network
    return router.json_response({"interfaceAttachments": network.interface_attachments(server_id) if network else []})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/servers/{{server_id}}/os-instance-actions": {"GET": list_instance_actions},
        f"{prefix}/servers/{{server_id}}/os-volume_attachments": {"GET": volume_attachments,
                                                                 "POST": volume_attachments},
        f"{prefix}/servers/{{server_id}}/os-interface": {"GET": interfaces, "POST": interfaces},
    }
