"""Resource classes and traits (the global lists)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import sqlalchemy as sa
import webob

from nubis.api import router
from nubis.common import exceptions
from nubis.placement.api.common import at_least, authorize, base_url, body, core
from nubis.placement.api.providers import inventory_exists
from nubis.placement.core import names
from nubis.placement.db.models import CustomResourceClass, CustomTrait, ProviderTrait

CLASS_SCHEMA = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 255}},
                "required": ["name"], "additionalProperties": False}


def _class_body(req: router.Request, name: str) -> dict[str, object]:
    return {"name": name, "links": [{"rel": "self", "href": f"{base_url(req)}/resource_classes/{name}"}]}


def _delete_custom(req: router.Request, name: str, standard: Collection[str], kind: str, model: Any,
                   missing: str, in_use: Callable[[Any], str | None]) -> webob.Response:
    """DELETE a custom resource class or trait: 400 for a standard one, 404 (``missing``) for an unknown
    one, 409 with the message ``in_use(session)`` returns while something still uses it."""
    authorize(req, "write")
    if name in standard:
        raise exceptions.BadRequest(f"Cannot delete standard {kind} {name}.")
    with core(req).db.writer() as s:
        row = s.get(model, name)
        if row is None:
            raise exceptions.NotFound(missing)
        used = in_use(s)
        if used:
            raise exceptions.Conflict(used)
        s.delete(row)
    return router.empty_response()


def list_classes(req: router.Request) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        return router.json_response({"resource_classes": [_class_body(req, n) for n in names.resource_classes(s)]})


def create_class(req: router.Request) -> webob.Response:
    authorize(req, "write")
    name = body(req, CLASS_SCHEMA)["name"]
    names.check_custom_name(name, "resource class")
    with core(req).db.writer() as s:
        if names.resource_class_exists(s, name):
            raise exceptions.Conflict(f"Conflicting resource class already exists: {name}",
                                      error_type="placement.duplicate_name")
        s.add(CustomResourceClass(name=name))
    return router.empty_response(201, headers={"Location": f"{base_url(req)}/resource_classes/{name}"})


def get_class(req: router.Request, name: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        if not names.resource_class_exists(s, name):
            raise exceptions.NotFound(f"No such resource class {name}.")
    return router.json_response(_class_body(req, name))


def put_class(req: router.Request, name: str) -> webob.Response:
    authorize(req, "write")
    if not at_least(req, "1.7"):
        raise exceptions.MethodNotAllowed("Updating a resource class needs microversion 1.7.")
    names.check_custom_name(name, "resource class")
    with core(req).db.writer() as s:
        if names.resource_class_exists(s, name):
            return router.empty_response(204)
        s.add(CustomResourceClass(name=name))
    return router.empty_response(201, headers={"Location": f"{base_url(req)}/resource_classes/{name}"})


def delete_class(req: router.Request, name: str) -> webob.Response:
    return _delete_custom(req, name, names.STANDARD_CLASSES, "resource class", CustomResourceClass,
                          f"No such resource class {name}.",
                          lambda s: f"Unable to delete resource class {name}: it is used in inventories."
                          if inventory_exists(s, name) else None)


def list_traits(req: router.Request) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        found = names.traits(s)
        name = req.query_one("name")
        if name:
            if name.startswith("in:"):
                wanted = set(name[3:].split(","))
                found = [t for t in found if t in wanted]
            elif name.startswith("startswith:"):
                found = [t for t in found if t.startswith(name[len("startswith:"):])]
            else:
                raise exceptions.BadRequest(f"Badly formatted name parameter {name!r}: use in: or startswith:.")
        associated = req.query_one("associated")
        if associated is not None:
            if associated not in ("true", "false"):
                raise exceptions.BadRequest("associated must be true or false.")
            used = set(s.scalars(sa.select(ProviderTrait.trait).distinct()))
            found = [t for t in found if (t in used) == (associated == "true")]
    return router.json_response({"traits": found})


def get_trait(req: router.Request, name: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        if not names.trait_exists(s, name):
            raise exceptions.NotFound(f"No such trait(s): {name}.")
    return router.empty_response()


def put_trait(req: router.Request, name: str) -> webob.Response:
    authorize(req, "write")
    names.check_custom_name(name, "trait")
    with core(req).db.writer() as s:
        if names.trait_exists(s, name):
            return router.empty_response(204, headers={"Location": f"{base_url(req)}/traits/{name}"})
        s.add(CustomTrait(name=name))
    return router.empty_response(201, headers={"Location": f"{base_url(req)}/traits/{name}"})


def delete_trait(req: router.Request, name: str) -> webob.Response:
    return _delete_custom(req, name, names.STANDARD_TRAITS, "trait", CustomTrait, f"No such trait(s): {name}.",
                          lambda s: f"The trait {name} is in use by a resource provider." if s.scalar(
                              sa.select(ProviderTrait.trait).where(ProviderTrait.trait == name).limit(1)) else None)
