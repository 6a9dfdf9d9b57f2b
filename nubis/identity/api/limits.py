"""Unified limits: ``/v3/registered_limits``, ``/v3/limits`` and ``/v3/limits/model``."""

from __future__ import annotations

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
    authorize(req, "manage_registered_limit")
    items = _batch(req, "registered_limits", REGISTERED, ["service_id", "resource_name", "default_limit"])
    with core(req).db.writer() as s:
        made = [limits.registered_to_dict(limits.create_registered(s, v)) for v in items]
        return router.json_response({"registered_limits": made}, status=201)


def get_registered(req: router.Request, registered_limit_id: str) -> webob.Response:
    authorize(req, "get_registered_limit")
    with core(req).db.reader() as s:
        r = limits.get(s, RegisteredLimit, registered_limit_id, "registered limit")
        return router.json_response({"registered_limit": limits.registered_to_dict(r)})


def update_registered(req: router.Request, registered_limit_id: str) -> webob.Response:
    authorize(req, "manage_registered_limit")
    v = _one(req, "registered_limit", REGISTERED)
    with core(req).db.writer() as s:
        r = limits.get(s, RegisteredLimit, registered_limit_id, "registered limit")
        limits.update_registered(s, r, v)
        return router.json_response({"registered_limit": limits.registered_to_dict(r)})


def delete_registered(req: router.Request, registered_limit_id: str) -> webob.Response:
    authorize(req, "manage_registered_limit")
    with core(req).db.writer() as s:
        limits.delete_registered(s, limits.get(s, RegisteredLimit, registered_limit_id, "registered limit"))
    return router.empty_response()


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
    authorize(req, "manage_limit")
    items = _batch(req, "limits", LIMIT, ["service_id", "resource_name", "resource_limit"])
    with core(req).db.writer() as s:
        made = [limits.limit_to_dict(limits.create_limit(s, v)) for v in items]
        return router.json_response({"limits": made}, status=201)


def get_limit(req: router.Request, limit_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        lim = limits.get(s, ProjectLimit, limit_id, "limit")
        authorize(req, "get_limit", _target(lim))
        return router.json_response({"limit": limits.limit_to_dict(lim)})


def update_limit(req: router.Request, limit_id: str) -> webob.Response:
    authorize(req, "manage_limit")
    v = _one(req, "limit", LIMIT_UPDATE)
    with core(req).db.writer() as s:
        lim = limits.get(s, ProjectLimit, limit_id, "limit")
        for key, value in v.items():
            setattr(lim, key, value)
        return router.json_response({"limit": limits.limit_to_dict(lim)})


def delete_limit(req: router.Request, limit_id: str) -> webob.Response:
    authorize(req, "manage_limit")
    with core(req).db.writer() as s:
        s.delete(limits.get(s, ProjectLimit, limit_id, "limit"))
    return router.empty_response()


