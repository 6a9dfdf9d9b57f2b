"""``/os-server-external-events``: other services (the network service first) telling servers' hosts news."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.compute.api import schemas
from nubis.compute.api.common import authorize, body_of, context, core, version_of
from nubis.compute.api.schemas import external_events as event_schemas


def external_events(req: router.Request) -> webob.Response:
    authorize(req, "os-server-external-events:create")
    body = body_of(req)
    validation.validate(body, schemas.pick(event_schemas.CREATE, version_of(req)))
    events = core(req).events.deliver(context(req), body["events"])
    codes = {e["code"] for e in events}
    status = 200 if codes == {200} else (404 if 200 not in codes else 207)
    return router.json_response({"events": events}, status=status)


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/os-server-external-events": {"POST": external_events}}
