"""``/os-services``: compute services, their state, and enabling, disabling or forcing them down (admin)."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import authorize, body_of, context, core, version_of
from nubis.compute.api.views import services as views


def list_services(req: router.Request) -> webob.Response:
    authorize(req, "os-services:list")
    found = core(req).services.list(req.GET.get("host"), req.GET.get("binary"))
    return router.json_response({"services": [views.service(r, version_of(req)) for r in found]})


def update_service(req: router.Request, service_id: str) -> webob.Response:
    authorize(req, "os-services:update")
    if version_of(req) < Version(2, 53):
        raise exceptions.BadRequest("Updating a service by id needs microversion 2.53 or later.")
    updated = core(req).services.update(context(req), service_id, body_of(req))
    return router.json_response({"service": views.service(updated, version_of(req))})


def delete_service(req: router.Request, service_id: str) -> webob.Response:
    authorize(req, "os-services:delete")
    core(req).services.delete(service_id)
    return router.empty_response(204)


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-services": {"GET": list_services},
        f"{prefix}/os-services/{{service_id}}": {"PUT": update_service, "DELETE": delete_service},
    }
