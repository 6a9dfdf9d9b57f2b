"""``/v3/policies``: opaque policy documents (Keystone's policy API; the blob is stored, never interpreted)."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity.api.common import authorize, collection, core, entity_body
from nubis.identity.db.models import PolicyBlob

# Keystone keeps blobs in a TEXT column; bounded so one request cannot store megabytes.
MAX_BLOB = 65535
POLICY_SCHEMA = {"type": "object", "properties": {
    "blob": {"type": "string", "maxLength": MAX_BLOB}, "type": {"type": "string", "minLength": 1, "maxLength": 255},
    "id": {"type": "string", "maxLength": 64}}, "maxProperties": 32}
_CORE_FIELDS = {"id", "blob", "type", "links"}


def _to_dict(p: PolicyBlob) -> dict[str, Any]:
    return {**dict(p.extra or {}), "id": p.id, "type": p.type, "blob": p.blob, "links": {"self": f"/v3/policies/{p.id}"}}


def _get(s: Any, policy_id: str) -> PolicyBlob:
    p = s.get(PolicyBlob, policy_id)
    if p is None:
        raise exceptions.NotFound(f"Could not find policy: {policy_id}.")
    return p


def list_policies(req: router.Request) -> webob.Response:
    authorize(req, "get_policy")
    with core(req).db.reader() as s:
        q = s.query(PolicyBlob)
        if req.query_one("type"):
            q = q.filter_by(type=req.query_one("type"))
        return router.json_response(collection(req, "policies", [_to_dict(p) for p in q.order_by(PolicyBlob.id)]))


def get_policy(req: router.Request, policy_id: str) -> webob.Response:
    authorize(req, "get_policy")
    with core(req).db.reader() as s:
        return router.json_response({"policy": _to_dict(_get(s, policy_id))})


def create_policy(req: router.Request) -> webob.Response:
    authorize(req, "manage_policy")
    v = entity_body(req, "policy", set(), {"blob", "type"})
    validation.validate(v, POLICY_SCHEMA)
    with core(req).db.writer() as s:
        p = PolicyBlob(id=types.new_hex_id(), type=v["type"], blob=v["blob"],
                       extra={k: x for k, x in v.items() if k not in _CORE_FIELDS})
        s.add(p)
        s.flush()
        return router.json_response({"policy": _to_dict(p)}, status=201)


def update_policy(req: router.Request, policy_id: str) -> webob.Response:
    authorize(req, "manage_policy")
    v = entity_body(req, "policy", set())
    validation.validate(v, POLICY_SCHEMA)
    if "id" in v and v["id"] != policy_id:
        raise exceptions.BadRequest("The policy id cannot be changed.")
    with core(req).db.writer() as s:
        p = _get(s, policy_id)
        for key in ("type", "blob"):
            if key in v:
                setattr(p, key, v[key])
        extra = {k: x for k, x in v.items() if k not in _CORE_FIELDS}
        if extra:
            p.extra = {**dict(p.extra or {}), **extra}
        return router.json_response({"policy": _to_dict(p)})


def delete_policy(req: router.Request, policy_id: str) -> webob.Response:
    authorize(req, "manage_policy")
    with core(req).db.writer() as s:
        s.delete(_get(s, policy_id))
    return router.empty_response()
