"""Remote consoles: ``POST /servers/{id}/remote-consoles`` (2.6+), the older per-protocol actions
(``os-getVNCConsole``, ``os-getSPICEConsole``, ``os-getSerialConsole``, before 2.6) and the admins'
``GET /os-console-auth-tokens/{token}``, as Nova's API reference gives them."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api import schemas
from nubis.compute.api.common import authorize, body_of, context, core, version_of
from nubis.compute.api.schemas import consoles as console_schemas
from nubis.compute.api.servers import owned_server

REMOTE_RULE = "os-remote-consoles"
TOKENS_RULE = "os-console-auth-tokens"
# Console types this cloud's drivers can serve; the others the schema knows get a clear 400.
_SERVED = ("novnc", "spice-html5", "serial")


def _url(req: router.Request, server_id: str, console_type: str) -> str:
    if console_type not in _SERVED:
        raise exceptions.BadRequest(f"Unavailable console type {console_type}: this cloud offers novnc, "
                                    "spice-html5 (where enabled) and serial consoles.")
    return core(req).consoles.get_console(context(req), server_id, console_type)


def create_remote_console(req: router.Request, server_id: str) -> webob.Response:
    """Nova's "Create Console": 200 ``{"remote_console": {"protocol", "type", "url"}}``."""
    if version_of(req) < Version(2, 6):
        raise exceptions.NotFound("The remote-consoles API needs microversion 2.6 or later.")
    body = body_of(req)
    validation.validate(body, schemas.pick(console_schemas.REMOTE_CONSOLE, version_of(req)))
    protocol, console_type = body["remote_console"]["protocol"], body["remote_console"]["type"]
    owned_server(req, server_id, REMOTE_RULE)
    if console_type not in console_schemas.PROTOCOL_TYPES[protocol]:
        raise exceptions.BadRequest(f"Invalid console type {console_type} for protocol {protocol}.")
    url = _url(req, server_id, console_type)
    return router.json_response({"remote_console": {"protocol": protocol, "type": console_type, "url": url}})


def legacy_action(types: list[str]) -> Any:
    """An ``os-get*Console`` server action (before 2.6): 200 ``{"console": {"type", "url"}}``."""
    def run(req: router.Request, inst: Any, arg: Any) -> webob.Response:
        if version_of(req) >= Version(2, 6):
            raise exceptions.NotFound("This action was replaced by POST /servers/{server_id}/remote-consoles "
                                      "in microversion 2.6.")
        validation.validate({"console": arg}, {"type": "object",
                                               "properties": {"console": console_schemas.legacy(types)}})
        url = _url(req, inst.uuid, arg["type"])
        return router.json_response({"console": {"type": arg["type"], "url": url}})
    return run


def show_console_token(req: router.Request, console_token: str) -> webob.Response:
    """Nova's "Show Console Connection Information" (admins): the host and port a token grants.

    Before 2.31 only RDP tokens could be shown (401 otherwise), as in Nova; this cloud has none.
    """
    authorize(req, TOKENS_RULE)
    found = core(req).consoles.show_token(console_token)
    if version_of(req) < Version(2, 31) and found["console_type"] != "rdp-html5":
        raise exceptions.Unauthorized("The requested console type details are not accessible (microversion "
                                      "2.31 or later shows every console type).")
    return router.json_response({"console": {
        "instance_uuid": found["instance_uuid"], "host": found["host"], "port": found["port"],
        "internal_access_path": found["internal_access_path"]}})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/servers/{{server_id}}/remote-consoles": {"POST": create_remote_console},
        f"{prefix}/os-console-auth-tokens/{{console_token}}": {"GET": show_console_token},
    }
