"""``/servers/{server_id}/os-server-password``: the encrypted admin password a server's guest posted.

API reference: compute "Servers Password" (``GET`` shows it as ``{"password": "..."}``, "" when there is none;
``DELETE`` clears it, 204). Decrypting it takes the private half of the server's keypair, so only its owner
can read it.
"""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.compute.api.common import core
from nubis.compute.api.servers import owned_server


def show(req: router.Request, server_id: str) -> webob.Response:
    inst = owned_server(req, server_id, "os-server-password:show")
    return router.json_response({"password": core(req).passwords.show(inst.uuid)})


def clear(req: router.Request, server_id: str) -> webob.Response:
    inst = owned_server(req, server_id, "os-server-password:clear")
    core(req).passwords.clear(inst.uuid)
    return router.empty_response(204)


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/servers/{{server_id}}/os-server-password": {"GET": show, "DELETE": clear}}
