"""``/v3/{project_id}/messages`` (3.3+): the project's user messages, shown and deleted."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.volume.api.common import authorize, authorize_owned, context, core, since
from nubis.volume.api.views import timestamp

V33 = Version(3, 3)


def _view(req: router.Request, m: dict[str, Any]) -> dict[str, Any]:
    href = f"{req.application_url}/v3/{m['project_id']}/messages/{m['id']}"
    body = {k: v for k, v in m.items() if k != "project_id"}
    body.update(created_at=timestamp(m["created_at"]), guaranteed_until=timestamp(m["guaranteed_until"]),
                links=[{"rel": "self", "href": href}, {"rel": "bookmark", "href": href.replace("/v3/", "/", 1)}])
    if body["resource_uuid"] is None:
        del body["resource_uuid"]
    return body


@since(V33)
def index(req: router.Request) -> webob.Response:
    authorize(req, "message:get_all")
    return router.json_response({"messages": [_view(req, m) for m in core(req).messages.list(context(req))]})


@since(V33)
def show(req: router.Request, message_id: str) -> webob.Response:
    authorize_owned(req, "message:get", core(req).messages.owner(message_id))
    return router.json_response({"message": _view(req, core(req).messages.get(context(req), message_id))})


@since(V33)
def delete(req: router.Request, message_id: str) -> webob.Response:
    authorize_owned(req, "message:delete", core(req).messages.owner(message_id))
    core(req).messages.delete(context(req), message_id)
    return router.empty_response(204)


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/messages": {"GET": index},
            f"{prefix}/messages/{{message_id}}": {"GET": show, "DELETE": delete}}
