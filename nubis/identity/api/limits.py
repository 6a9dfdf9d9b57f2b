"""Unified limits: ``/v3/registered_limits``, ``/v3/limits`` and ``/v3/limits/model``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import webob

from nubis.api import router, validation
from nubis.identity.api import auth_schema
from nubis.identity.api.common import authorize, collection, core
from nubis.identity.core import limits
from nubis.identity.db.models import ProjectLimit, RegisteredLimit

_REGION = {"type": ["string", "null"], "maxLength": 255}
_RESOURCE = {"type": "string", "minLength": 1, "maxLength": 255}
_AMOUNT = {"type": "integer", "minimum": -1, "maximum": 2147483647}  # -1: unlimited, as in Keystone
_DESCRIPTION = {"type": ["string", "null"], "maxLength": 65535}
REGISTERED = {"type": "object", "properties": {
    "service_id": auth_schema.ID, "region_id": _REGION, "resource_name": _RESOURCE, "default_limit": _AMOUNT,
    "description": _DESCRIPTION}, "additionalProperties": False}
LIMIT = {"type": "object", "properties": {
    "service_id": auth_schema.ID, "region_id": _REGION, "resource_name": _RESOURCE, "resource_limit": _AMOUNT,
    "description": _DESCRIPTION, "project_id": {"type": ["string", "null"], "maxLength": 64},
    "domain_id": {"type": ["string", "null"], "maxLength": 64}}, "additionalProperties": False}
LIMIT_UPDATE = {"type": "object", "properties": {"resource_limit": _AMOUNT, "description": _DESCRIPTION},
                "additionalProperties": False}


def _batch(req: router.Request, key: str, item_schema: dict[str, Any], required: list[str]) -> list[dict[str, Any]]:
    body = req.json_body()
    validation.validate(body, {"type": "object", "properties": {key: {
        "type": "array", "minItems": 1, "maxItems": 100, "items": {**item_schema, "required": required}}},
        "required": [key], "additionalProperties": False})
    return list(body[key])


def _one(req: router.Request, key: str, schema: dict[str, Any]) -> dict[str, Any]:
    body = req.json_body()
    validation.validate(body, {"type": "object", "properties": {key: schema}, "required": [key],
                               "additionalProperties": False})
    return dict(body[key])


@dataclasses.dataclass(frozen=True)
class _Kind:
    """Registered limits or project/domain limits: the create, update and delete steps both share.

    ``member``/``plural`` are the body keys, ``label`` names the kind in the 404 text and
    ``manage`` is the policy rule (without ``identity:``) that guards writes.
    """

    member: str
    plural: str
    label: str
    model: Any
    view: Callable[[Any], dict[str, Any]]
    manage: str

    def fetch(self, s: Any, ident: str) -> Any:
        """The row under ``ident`` (404 naming the kind when absent)."""
        return limits.get(s, self.model, ident, self.label)

    def create(self, req: router.Request, schema: dict[str, Any], required: list[str],
               make: Callable[[Any, dict[str, Any]], Any]) -> webob.Response:
        """POST a batch of 1-100 items, each stored by ``make(session, item)``; 201 with all of them."""
        authorize(req, self.manage)
        items = _batch(req, self.plural, schema, required)
        with core(req).db.writer() as s:
            made = [self.view(make(s, v)) for v in items]
            return router.json_response({self.plural: made}, status=201)

    def update(self, req: router.Request, ident: str, schema: dict[str, Any],
               apply: Callable[[Any, Any, dict[str, Any]], None]) -> webob.Response:
        """PATCH: ``apply(session, row, body)`` on the row under ``ident``."""
        authorize(req, self.manage)
        v = _one(req, self.member, schema)
        with core(req).db.writer() as s:
            row = self.fetch(s, ident)
            apply(s, row, v)
            return router.json_response({self.member: self.view(row)})

    def delete(self, req: router.Request, ident: str, remove: Callable[[Any, Any], None]) -> webob.Response:
        """DELETE the row under ``ident`` through ``remove(session, row)``."""
        authorize(req, self.manage)
        with core(req).db.writer() as s:
            remove(s, self.fetch(s, ident))
        return router.empty_response()


_REGISTERED = _Kind("registered_limit", "registered_limits", "registered limit", RegisteredLimit,
                    limits.registered_to_dict, "manage_registered_limit")
_LIMIT = _Kind("limit", "limits", "limit", ProjectLimit, limits.limit_to_dict, "manage_limit")


def limit_model(req: router.Request) -> webob.Response:
    authorize(req, "get_limit_model")
    return router.json_response({"model": dict(limits.MODEL)})


# -- registered limits ------------------------------------------------------------------

def list_registered(req: router.Request) -> webob.Response:
    authorize(req, "get_registered_limit")
    filters = {k: req.query_one(k) for k in ("service_id", "region_id", "resource_name")}
    with core(req).db.reader() as s:
        items = [limits.registered_to_dict(r) for r in limits.list_of(s, RegisteredLimit, filters)]
        return router.json_response(collection(req, "registered_limits", items))


def create_registered(req: router.Request) -> webob.Response:
    return _REGISTERED.create(req, REGISTERED, ["service_id", "resource_name", "default_limit"],
                              limits.create_registered)


def get_registered(req: router.Request, registered_limit_id: str) -> webob.Response:
    authorize(req, "get_registered_limit")
    with core(req).db.reader() as s:
        r = _REGISTERED.fetch(s, registered_limit_id)
        return router.json_response({"registered_limit": limits.registered_to_dict(r)})


def update_registered(req: router.Request, registered_limit_id: str) -> webob.Response:
    return _REGISTERED.update(req, registered_limit_id, REGISTERED, limits.update_registered)


def delete_registered(req: router.Request, registered_limit_id: str) -> webob.Response:
    return _REGISTERED.delete(req, registered_limit_id, limits.delete_registered)


# -- project and domain limits -----------------------------------------------------------

def _target(lim: ProjectLimit) -> dict[str, Any]:
    return {"target.limit.project_id": lim.project_id, "target.limit.domain_id": lim.domain_id}


def list_limits(req: router.Request) -> webob.Response:
    filters = {k: req.query_one(k) for k in ("service_id", "region_id", "resource_name", "project_id", "domain_id")}
    with core(req).db.reader() as s:
        # Everyone may list; each sees the limits it may read (its own project's, or all for cloud readers).
        visible = [lim for lim in limits.list_of(s, ProjectLimit, filters) if core(req).policy.check(
            req.context, "identity:get_limit", {"project_id": req.context.project_id,
                                                "domain_id": req.context.domain_id, **_target(lim)})]
        return router.json_response(collection(req, "limits", [limits.limit_to_dict(x) for x in visible]))


def create_limits(req: router.Request) -> webob.Response:
    return _LIMIT.create(req, LIMIT, ["service_id", "resource_name", "resource_limit"], limits.create_limit)


def get_limit(req: router.Request, limit_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        lim = _LIMIT.fetch(s, limit_id)
        authorize(req, "get_limit", _target(lim))
        return router.json_response({"limit": limits.limit_to_dict(lim)})


def update_limit(req: router.Request, limit_id: str) -> webob.Response:
    def apply(s: Any, lim: ProjectLimit, v: dict[str, Any]) -> None:
        for key, value in v.items():
            setattr(lim, key, value)
    return _LIMIT.update(req, limit_id, LIMIT_UPDATE, apply)


def delete_limit(req: router.Request, limit_id: str) -> webob.Response:
    return _LIMIT.delete(req, limit_id, lambda s, lim: s.delete(lim))


