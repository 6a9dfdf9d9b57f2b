"""``/v3/{project_id}/types``: volume types and their extra specs (admins manage them, everyone reads)."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.volume.api.common import authorize, body_of, context, core, is_true
from nubis.volume.api.schemas import types as schemas
from nubis.volume.api.views import types as views


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and is_true(value))


def index(req: router.Request) -> webob.Response:
    authorize(req, "volume_extension:type_get_all")
    raw = req.GET.get("is_public")
    is_public = None if raw is None or raw.lower() == "none" else is_true(raw)
    ctx = context(req)
    found = core(req).types.list(ctx.is_admin, is_public, ctx.project_id)
    return router.json_response({"volume_types": [views.detail(t, ctx.is_admin) for t in found]})


def create(req: router.Request) -> webob.Response:
    authorize(req, "volume_extension:types_manage")
    body = body_of(req)
    validation.validate(body, schemas.CREATE)
    spec = body["volume_type"]
    t = core(req).types.create(spec["name"].strip(), spec.get("description"),
                               _bool(spec.get("os-volume-type-access:is_public", True)), spec.get("extra_specs", {}))
    return router.json_response({"volume_type": views.detail(t)})


def show(req: router.Request, type_id: str) -> webob.Response:
    authorize(req, "volume_extension:type_get")
    ctx = context(req)
    found = core(req).types.get(type_id, ctx.is_admin, ctx.project_id)
    return router.json_response({"volume_type": views.detail(found, ctx.is_admin)})


def update(req: router.Request, type_id: str) -> webob.Response:
    authorize(req, "volume_extension:types_manage")
    body = body_of(req)
    validation.validate(body, schemas.UPDATE)
    changes = dict(body["volume_type"])
    if "is_public" in changes:
        changes["is_public"] = _bool(changes["is_public"])
    updated = views.detail(core(req).types.update(type_id, changes))
    del updated["os-volume-type-access:is_public"]  # not in Cinder's update body (nor Tempest's schema)
    return router.json_response({"volume_type": updated})


def delete(req: router.Request, type_id: str) -> webob.Response:
    authorize(req, "volume_extension:types_manage")
    core(req).types.delete(type_id)
    return router.empty_response(202)


def list_specs(req: router.Request, type_id: str) -> webob.Response:
    authorize(req, "volume_extension:types_extra_specs:index")
    ctx = context(req)
    return router.json_response({"extra_specs": core(req).types.specs(type_id, ctx.is_admin, ctx.project_id)})


def create_specs(req: router.Request, type_id: str) -> webob.Response:
    authorize(req, "volume_extension:types_extra_specs:update")
    body = body_of(req)
    validation.validate(body, schemas.EXTRA_SPECS)
    return router.json_response({"extra_specs": core(req).types.set_specs(type_id, body["extra_specs"])})


def show_spec(req: router.Request, type_id: str, key: str) -> webob.Response:
    authorize(req, "volume_extension:types_extra_specs:index")
    ctx = context(req)
    specs = core(req).types.specs(type_id, ctx.is_admin, ctx.project_id)
    if key not in specs:
        raise exceptions.NotFound(f"Volume Type {type_id} has no extra specs with key {key}.")
    return router.json_response({key: specs[key]})


def update_spec(req: router.Request, type_id: str, key: str) -> webob.Response:
    authorize(req, "volume_extension:types_extra_specs:update")
    body = body_of(req)
    validation.validate(body, schemas.ONE_SPEC)
    if key not in body:
        raise exceptions.BadRequest("Request body and URI mismatch: the key in the body is not the URL's.")
    core(req).types.set_specs(type_id, body)
    return router.json_response(body)


def delete_spec(req: router.Request, type_id: str, key: str) -> webob.Response:
    authorize(req, "volume_extension:types_extra_specs:update")
    core(req).types.delete_spec(type_id, key)
    return router.empty_response(202)


# -- access to private types (Cinder's os-volume-type-access) -------------------------------------------

def list_access(req: router.Request, type_id: str) -> webob.Response:
    authorize(req, "volume_extension:volume_type_access:get_all_for_type")
    return router.json_response(views.access(core(req).types.access_list(type_id)))


def action(req: router.Request, type_id: str) -> webob.Response:
    """``POST .../types/{id}/action`` with ``addProjectAccess`` or ``removeProjectAccess`` (``project``): 202."""
    body = body_of(req)
    if len(body) != 1 or next(iter(body)) not in schemas.ACCESS_ACTIONS:
        raise exceptions.BadRequest("Invalid request body: it must name one action of addProjectAccess, "
                                    "removeProjectAccess.")
    name, args = next(iter(body.items()))
    authorize(req, f"volume_extension:volume_type_access:{name}")
    validation.validate(args, schemas.ACCESS_ACTIONS[name])
    project = args["project"].strip()
    if name == "addProjectAccess":
        core(req).types.add_access(type_id, project)
    else:
        core(req).types.remove_access(type_id, project)
    return router.empty_response(202)


def routes(prefix: str) -> router.RouteTable:
    item = f"{prefix}/types/{{type_id}}"
    return {
        f"{prefix}/types": {"GET": index, "POST": create},
        item: {"GET": show, "PUT": update, "DELETE": delete},
        f"{item}/extra_specs": {"GET": list_specs, "POST": create_specs},
        f"{item}/action": {"POST": action},
        f"{item}/os-volume-type-access": {"GET": list_access},
        f"{item}/extra_specs/{{key}}": {"GET": show_spec, "PUT": update_spec, "DELETE": delete_spec},
    }
