"""``/flavors/{id}/os-extra_specs``: a flavor's extra specs (values of known ``hw:`` keys are checked)."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.compute.api.common import authorize, body_of, context, core
from nubis.compute.api.schemas import flavors as flavor_schemas


def list_extra_specs(req: router.Request, flavor_id: str) -> webob.Response:
    authorize(req, "flavors")
    return router.json_response({"extra_specs": core(req).flavors.get_extra_specs(context(req), flavor_id)})


def set_extra_specs(req: router.Request, flavor_id: str) -> webob.Response:
    authorize(req, "os-flavor-manage")
    body = body_of(req)
    validation.validate(body, flavor_schemas.EXTRA_SPECS)
    return router.json_response({"extra_specs": core(req).flavors.set_extra_specs(flavor_id, body["extra_specs"])})


def show_extra_spec(req: router.Request, flavor_id: str, key: str) -> webob.Response:
    authorize(req, "flavors")
    specs = core(req).flavors.get_extra_specs(context(req), flavor_id)
    if key not in specs:
        raise exceptions.NotFound(f"Flavor {flavor_id} does not have extra spec with key {key}.")
    return router.json_response({key: specs[key]})


def update_extra_spec(req: router.Request, flavor_id: str, key: str) -> webob.Response:
    authorize(req, "os-flavor-manage")
    body = body_of(req)
    validation.validate(body, flavor_schemas.EXTRA_SPEC_ITEM)
    if list(body) != [key]:
        raise exceptions.BadRequest(f"The body must hold exactly the key in the URL ({key}).")
    specs = core(req).flavors.set_extra_specs(flavor_id, body)
    return router.json_response({key: specs[key]})


def delete_extra_spec(req: router.Request, flavor_id: str, key: str) -> webob.Response:
    authorize(req, "os-flavor-manage")
    core(req).flavors.delete_extra_spec(flavor_id, key)
    return router.empty_response(200)


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/flavors/{{flavor_id}}/os-extra_specs": {"GET": list_extra_specs, "POST": set_extra_specs},
        f"{prefix}/flavors/{{flavor_id}}/os-extra_specs/{{key}}": {"GET": show_extra_spec, "PUT": update_extra_spec,
                                                                  "DELETE": delete_extra_spec},
    }
