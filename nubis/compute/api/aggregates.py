"""Compute v2.1 handlers for host aggregates and availability zones."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import authorize, body_of, context, core, version_of


def _shown(req: router.Request, aggregate: dict[str, Any]) -> dict[str, Any]:
    if version_of(req) < Version(2, 41):
        aggregate = {k: v for k, v in aggregate.items() if k != "uuid"}
    return aggregate


def list_aggregates(req: router.Request) -> webob.Response:
    authorize(req, "os-aggregates:index")
    c = core(req)
    return router.json_response({"aggregates": [_shown(req, a) for a in c.aggregates.list()]})


def create_aggregate(req: router.Request) -> webob.Response:
    authorize(req, "os-aggregates:create")
    c = core(req)
    return router.json_response({"aggregate": _shown(req, c.aggregates.create(body_of(req)))})


def show_aggregate(req: router.Request, aggregate_id: str) -> webob.Response:
    authorize(req, "os-aggregates:show")
    c = core(req)
    return router.json_response({"aggregate": _shown(req, c.aggregates.get(aggregate_id))})


def update_aggregate(req: router.Request, aggregate_id: str) -> webob.Response:
    authorize(req, "os-aggregates:update")
    c = core(req)
    return router.json_response({"aggregate": _shown(req, c.aggregates.update(context(req), aggregate_id,
                                                                             body_of(req)))})


def delete_aggregate(req: router.Request, aggregate_id: str) -> webob.Response:
    authorize(req, "os-aggregates:delete")
    c = core(req)
    c.aggregates.delete(aggregate_id)
    return router.empty_response(200)


def _host_of(arg: Any, action: str) -> Any:
    if not isinstance(arg, dict) or set(arg) != {"host"}:
        raise exceptions.BadRequest(f"{action} needs exactly {{\"host\": <host name>}}.")
    return arg["host"]


def aggregate_action(req: router.Request, aggregate_id: str) -> webob.Response:
    c = core(req)
    body = body_of(req)
    if len(body) != 1:
        raise exceptions.BadRequest("Give exactly one action: add_host, remove_host or set_metadata.")
    name, arg = next(iter(body.items()))
    if name == "add_host":
        authorize(req, "os-aggregates:add_host")
        shown = c.aggregates.add_host(context(req), aggregate_id, _host_of(arg, name))
    elif name == "remove_host":
        authorize(req, "os-aggregates:remove_host")
        shown = c.aggregates.remove_host(context(req), aggregate_id, _host_of(arg, name))
    elif name == "set_metadata":
        authorize(req, "os-aggregates:set_metadata")
        if not isinstance(arg, dict) or set(arg) != {"metadata"}:
            raise exceptions.BadRequest("set_metadata needs {\"metadata\": {key: value or null}}.")
        shown = c.aggregates.set_metadata(context(req), aggregate_id, arg["metadata"])
    else:
        raise exceptions.BadRequest(f"There is no such aggregate action: {name}")
    return router.json_response({"aggregate": _shown(req, shown)})


def availability_zones(req: router.Request) -> webob.Response:
    authorize(req, "os-availability-zone:list")
    c = core(req)
    zones = [z for z in c.services.availability_zones(False) if z["zoneState"]["available"]]
    return router.json_response({"availabilityZoneInfo": zones})


def availability_zones_detail(req: router.Request) -> webob.Response:
    authorize(req, "os-availability-zone:detail")
    c = core(req)
    return router.json_response({"availabilityZoneInfo": c.services.availability_zones(True)})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-aggregates": {"GET": list_aggregates, "POST": create_aggregate},
        f"{prefix}/os-aggregates/{{aggregate_id}}": {"GET": show_aggregate, "PUT": update_aggregate,
                                                    "DELETE": delete_aggregate},
        f"{prefix}/os-aggregates/{{aggregate_id}}/action": {"POST": aggregate_action},
        f"{prefix}/os-availability-zone": {"GET": availability_zones},
        f"{prefix}/os-availability-zone/detail": {"GET": availability_zones_detail},
    }
