"""``/flavors``: list and show flavors; admins create and delete them and manage private flavors' access."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api import schemas
from nubis.compute.api.common import authorize, body_of, context, core, page_limit, params_of, version_of
from nubis.compute.api.schemas import flavors as flavor_schemas
from nubis.compute.api.views import flavors as views
from nubis.compute.api.views import links

# Nova's spellings of true and false (any case) for ``is_public``; "none" asks for public and private flavors.
_TRUE, _FALSE = ("1", "t", "true", "on", "y", "yes"), ("0", "f", "false", "off", "n", "no")


def _is_public_filter(value: str | None) -> bool | None:
    """The ``is_public`` filter: True when absent, None for "none", else a boolean (400 otherwise)."""
    if value is None:
        return True
    lowered = value.lower()
    if lowered == "none":
        return None
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise exceptions.BadRequest(f"Invalid is_public filter [{value[:255]}]: use true, false or none.")


def list_flavors(req: router.Request, detailed: bool = False) -> webob.Response:
    authorize(req, "flavors")
    params = params_of(req)
    params["limit"] = str(page_limit(params.get("limit")))
    found = core(req).flavors.list(context(req), params, _is_public_filter(params.get("is_public")))
    base = links.base_url(req)
    return router.json_response({"flavors": [views.flavor(base, f, version_of(req), detailed) for f in found]})


def list_flavors_detail(req: router.Request) -> webob.Response:
    return list_flavors(req, detailed=True)


def show_flavor(req: router.Request, flavor_id: str) -> webob.Response:
    authorize(req, "flavors")
    flavor = core(req).flavors.get(context(req), flavor_id)
    return router.json_response({"flavor": views.flavor(links.base_url(req), flavor, version_of(req))})


def create_flavor(req: router.Request) -> webob.Response:
    authorize(req, "os-flavor-manage")
    body = body_of(req)
    validation.validate(body, schemas.pick(flavor_schemas.CREATE, version_of(req)))
    flavor = core(req).flavors.create(body)
    return router.json_response({"flavor": views.flavor(links.base_url(req), flavor, version_of(req))})


def update_flavor(req: router.Request, flavor_id: str) -> webob.Response:
    """Change a flavor's description (2.55); nothing else about a flavor may change once made."""
    authorize(req, "os-flavor-manage")
    version = version_of(req)
    if version < Version(2, 55):
        raise exceptions.BadRequest("Updating a flavor's description needs microversion 2.55 or later.")
    body = body_of(req)
    validation.validate(body, flavor_schemas.UPDATE)
    flavor = core(req).flavors.update_description(flavor_id, body["flavor"]["description"])
    return router.json_response({"flavor": views.flavor(links.base_url(req), flavor, version)})


def delete_flavor(req: router.Request, flavor_id: str) -> webob.Response:
    authorize(req, "os-flavor-manage")
    core(req).flavors.delete(flavor_id)
    return router.empty_response(202)


def flavor_access(req: router.Request, flavor_id: str) -> webob.Response:
    authorize(req, "os-flavor-manage")
    return router.json_response({"flavor_access": core(req).flavors.access(flavor_id)})


def flavor_action(req: router.Request, flavor_id: str) -> webob.Response:
    authorize(req, "os-flavor-manage")
    body = body_of(req)
    validation.validate(body, flavor_schemas.ACCESS_ACTION)
    add = "addTenantAccess" in body
    tenant = body["addTenantAccess" if add else "removeTenantAccess"]["tenant"]
    return router.json_response({"flavor_access": core(req).flavors.access(flavor_id, tenant, add)})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/flavors": {"GET": list_flavors, "POST": create_flavor},
        f"{prefix}/flavors/detail": {"GET": list_flavors_detail},
        f"{prefix}/flavors/{{flavor_id}}": {"GET": show_flavor, "PUT": update_flavor,
                                              "DELETE": delete_flavor},
        f"{prefix}/flavors/{{flavor_id}}/os-flavor-access": {"GET": flavor_access},
        f"{prefix}/flavors/{{flavor_id}}/action": {"POST": flavor_action},
    }
