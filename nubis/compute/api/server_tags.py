"""``/servers/{id}/tags`` (2.26): a server's tags, at most 50 of 1-60 characters without '/' or ','."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import body_of, context, core, version_of
from nubis.compute.api.schemas import TAG
from nubis.compute.api.schemas import servers as server_schemas
from nubis.compute.api.servers import owned_server
from nubis.compute.api.views import links


def _owned(req: router.Request, server_id: str) -> object:
    if version_of(req) < Version(2, 26):
        raise exceptions.NotFound("Server tags need microversion 2.26 or later.")
    return owned_server(req, server_id, "servers:show" if req.method == "GET" else "servers:update")


def tags(req: router.Request, server_id: str) -> webob.Response:
    inst = _owned(req, server_id)
    if req.method == "GET":
        return router.json_response({"tags": list(inst.tags or [])})  # type: ignore[attr-defined]
    if req.method == "DELETE":
        core(req).servers.set_tags(context(req), server_id, [])
        return router.empty_response(204)
    body = body_of(req)
    validation.validate(body, server_schemas.TAGS)
    return router.json_response({"tags": core(req).servers.set_tags(context(req), server_id, body["tags"])})


def tag(req: router.Request, server_id: str, tag: str) -> webob.Response:
    inst = _owned(req, server_id)
    present = tag in (inst.tags or [])  # type: ignore[attr-defined]
    if req.method == "GET":
        if not present:
            raise exceptions.NotFound(f"Tag '{tag}' could not be found on instance {server_id}.")
        return router.empty_response(204)
    if req.method == "PUT":
        validation.validate({"tag": tag}, {"type": "object", "properties": {"tag": TAG}})
        core(req).servers.set_tags(context(req), server_id, None, add=tag)
        # Nova answers with where the tag is, whether it was new (201) or there already (204).
        where = f"{links.base_url(req)}{links.API_PREFIX}/{links.path('servers', server_id, 'tags', tag)}"
        return router.empty_response(204 if present else 201, headers={"Location": where})
    core(req).servers.set_tags(context(req), server_id, None, remove=tag)
    return router.empty_response(204)


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/servers/{{server_id}}/tags": {"GET": tags, "PUT": tags, "DELETE": tags},
        f"{prefix}/servers/{{server_id}}/tags/{{tag}}": {"GET": tag, "PUT": tag, "DELETE": tag},
    }
