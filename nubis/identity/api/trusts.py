"""``/v3/OS-TRUST/trusts``: create, list, show and delete trusts, and read their roles."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.identity.api import auth_schema, middleware
from nubis.identity.api.common import authorize, collection, core, entity_body, parse_expiry
from nubis.identity.core import app_creds, roles, trusts
from nubis.identity.db.models import Role

_ROLE_REF = {"type": "object", "properties": {"id": auth_schema.ID, "name": auth_schema.NAME},
             "anyOf": [{"required": ["id"]}, {"required": ["name"]}]}
TRUST_SCHEMA = {"type": "object", "properties": {
    "trustor_user_id": auth_schema.ID, "trustee_user_id": auth_schema.ID, "impersonation": {"type": "boolean"},
    "project_id": {"type": ["string", "null"], "maxLength": 64},
    "roles": {"type": "array", "items": _ROLE_REF, "maxItems": 100},
    "expires_at": {"type": ["string", "null"], "maxLength": 64},
    "remaining_uses": {"type": ["integer", "null"], "minimum": 1},
    "allow_redelegation": {"type": ["boolean", "null"]},
    "redelegation_count": {"type": ["integer", "null"], "minimum": 0}},
    "required": ["trustor_user_id", "trustee_user_id", "impersonation"]}


def _no_app_cred(req: router.Request) -> None:
    """Keystone refuses managing trusts with a restricted application credential's token."""
    app_creds.check_may_manage(middleware.token_app_cred(req.environ))


def _target(trust: Any) -> dict[str, Any]:
    return {"target.trust.trustor_user_id": trust.trustor_user_id,
            "target.trust.trustee_user_id": trust.trustee_user_id}


def create_trust(req: router.Request) -> webob.Response:
    t = entity_body(req, "trust", set())
    validation.validate(t, TRUST_SCHEMA)
    _no_app_cred(req)
    # An OAuth consumer's token would outlive its access token's revocation in a trust.
    middleware.require_not_delegated(req.environ, "create a trust", ("OS-OAUTH1",))
    authorize(req, "create_trust", {"target.trust.trustor_user_id": t["trustor_user_id"]})
    new = trusts.NewTrust(
        trustor_user_id=t["trustor_user_id"], trustee_user_id=t["trustee_user_id"], project_id=t.get("project_id"),
        impersonation=t["impersonation"], role_refs=list(t.get("roles") or []), expires_at=parse_expiry(t.get("expires_at")),
        remaining_uses=t.get("remaining_uses"), allow_redelegation=bool(t.get("allow_redelegation")))
    with core(req).db.writer() as s:
        trust = trusts.create_trust(s, new)
        return router.json_response({"trust": trusts.to_dict(s, trust)}, status=201)


def list_trusts(req: router.Request) -> webob.Response:
    trustor, trustee = req.query_one("trustor_user_id"), req.query_one("trustee_user_id")
    if trustor:
        authorize(req, "list_trusts_for_trustor", {"target.trust.trustor_user_id": trustor})
    if trustee:
        authorize(req, "list_trusts_for_trustee", {"target.trust.trustee_user_id": trustee})
    if not (trustor or trustee):
        authorize(req, "list_trusts")
    with core(req).db.reader() as s:
        items = [trusts.to_dict(s, t) for t in trusts.list_trusts(s, trustor, trustee)]
        return router.json_response(collection(req, "trusts", items))


def _visible(req: router.Request, s: Any, trust_id: str) -> Any:
    trust = trusts.get_trust(s, trust_id)
    authorize(req, "get_trust", _target(trust))
    return trust


def get_trust(req: router.Request, trust_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        return router.json_response({"trust": trusts.to_dict(s, _visible(req, s, trust_id))})


def delete_trust(req: router.Request, trust_id: str) -> webob.Response:
    _no_app_cred(req)
    with core(req).db.writer() as s:
        trust = trusts.get_trust(s, trust_id)
        authorize(req, "delete_trust", _target(trust))
        s.delete(trust)
    core(req).revoke(trust_id=trust_id)
    return router.empty_response()


def list_trust_roles(req: router.Request, trust_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        trust = _visible(req, s, trust_id)
        found = s.query(Role).filter(Role.id.in_(trusts.role_ids(s, trust))).order_by(Role.name)
        return router.json_response(collection(req, "roles", [roles.role_to_dict(r) for r in found]))


def get_trust_role(req: router.Request, trust_id: str, role_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        trust = _visible(req, s, trust_id)
        if role_id not in trusts.role_ids(s, trust):
            raise exceptions.NotFound(f"Could not find role: {role_id}.")
        return router.json_response({"role": roles.role_to_dict(roles.get_role(s, role_id))})
