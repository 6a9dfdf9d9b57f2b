"""``/servers/{id}/metadata``: a server's key/value metadata, whole or one item."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.compute.api.common import body_of, context, core
from nubis.compute.api.schemas import METADATA
from nubis.compute.api.servers import owned_server

_ITEMS = {"type": "object", "properties": {"metadata": METADATA}, "required": ["metadata"],
          "additionalProperties": False}
_ITEM = {"type": "object", "properties": {"meta": {**METADATA, "minProperties": 1, "maxProperties": 1}},
         "required": ["meta"], "additionalProperties": False}


def _rule(req: router.Request) -> str:
    return "servers:show" if req.method == "GET" else "servers:update"


def metadata(req: router.Request, server_id: str) -> webob.Response:
    inst = owned_server(req, server_id, _rule(req))
    if req.method == "GET":
        return router.json_response({"metadata": dict(inst.metadata_items or {})})
    body = body_of(req)
    validation.validate(body, _ITEMS)
    merged = core(req).servers.set_metadata(context(req), server_id, body["metadata"], req.method == "PUT")
    return router.json_response({"metadata": merged})


def metadata_item(req: router.Request, server_id: str, key: str) -> webob.Response:
    inst = owned_server(req, server_id, _rule(req))
    if req.method == "GET":
        items = dict(inst.metadata_items or {})
        if key not in items:
            raise exceptions.NotFound(f"Metadata item was not found: {key}")
        return router.json_response({"meta": {key: items[key]}})
    if req.method == "DELETE":
        core(req).servers.delete_metadata(context(req), server_id, key)
        return router.empty_response(204)
    body = body_of(req)
    validation.validate(body, _ITEM)
    if list(body["meta"]) != [key]:
        raise exceptions.BadRequest(f"The body must be {{\"meta\": {{\"{key}\": value}}}} with the key in the URL.")
    core(req).servers.set_metadata(context(req), server_id, body["meta"], False)
    return router.json_response({"meta": body["meta"]})


def routes(prefix: str) -> router.RouteTable:
    methods = {"GET": metadata, "PUT": metadata, "POST": metadata}
    return {
        f"{prefix}/servers/{{server_id}}/metadata": methods,
        f"{prefix}/servers/{{server_id}}/metadata/{{key}}": {"GET": metadata_item, "PUT": metadata_item,
                                                            "DELETE": metadata_item},
    }
