"""Application credentials (``/v3/users/{id}/application_credentials``) and ``/v3/credentials``."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from typing import Any

import webob
from cryptography.fernet import Fernet

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity import conf as identity_conf
from nubis.identity import passwords
from nubis.identity.api import auth_schema, middleware
from nubis.identity.api.common import authorize, collection, core, entity_body, parse_expiry
from nubis.identity.core import app_creds, roles, users
from nubis.identity.db.models import ApplicationCredential, Credential

_ROLE_REF = {"type": "object", "properties": {"id": auth_schema.ID, "name": auth_schema.NAME},
             "additionalProperties": False}
ACCESS_RULE = {"type": "object", "properties": {
    "id": auth_schema.ID, "service": {"type": "string", "minLength": 1, "maxLength": 64},
    "method": {"type": "string", "enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]},
    "path": {"type": "string", "minLength": 1, "maxLength": 225}},
    "anyOf": [{"required": ["id"]}, {"required": ["service", "method", "path"]}], "additionalProperties": False}
APP_CRED_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255}, "description": {"type": ["string", "null"]},
    "secret": {"type": ["string", "null"], "maxLength": auth_schema.SECRET["maxLength"]},
    "expires_at": {"type": ["string", "null"], "maxLength": 64},
    "roles": {"type": "array", "items": _ROLE_REF, "maxItems": 100},
    "unrestricted": {"type": "boolean"}, "access_rules": {"type": "array", "items": ACCESS_RULE, "maxItems": 100}},
    "additionalProperties": False}
CREDENTIAL_SCHEMA = {"type": "object", "properties": {
    "blob": {"type": "string"}, "project_id": {"type": ["string", "null"], "maxLength": 64},
    "type": {"type": "string", "minLength": 1, "maxLength": 255}, "user_id": auth_schema.ID},
    "additionalProperties": False}


def _app_cred_dict(cred: ApplicationCredential, s: Any) -> dict[str, Any]:
    role_list = []
    for role_id in cred.role_ids or []:
        role = s.get(roles.Role, role_id)
        if role is not None:
            role_list.append({"id": role.id, "name": role.name, "domain_id": None})
    return {
        "id": cred.id, "name": cred.name, "description": cred.description or "", "user_id": cred.user_id,
        "project_id": cred.project_id, "roles": role_list, "unrestricted": cred.unrestricted,
        "expires_at": cred.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if cred.expires_at else None,
        "access_rules": list(cred.access_rules or []),
        "links": {"self": f"/v3/users/{cred.user_id}/application_credentials/{cred.id}"},
    }


def _own(req: router.Request, user_id: str) -> None:
    authorize(req, "manage_own", {"target.user.id": user_id})


def create_app_cred(req: router.Request, user_id: str) -> webob.Response:
    if req.context.user_id != user_id:
        raise exceptions.Forbidden("Application credentials can only be created by their own user.")
    app_creds.check_may_manage(middleware.token_app_cred(req.environ))
    # An OAuth consumer's token would outlive its access token's revocation in a credential.
    middleware.require_not_delegated(req.environ, "create an application credential", ("OS-OAUTH1",))
    v = entity_body(req, "application_credential", set(), {"name"})
    validation.validate(v, APP_CRED_SCHEMA)
    project_id = req.context.project_id
    if not project_id:
        raise exceptions.BadRequest("Application credentials are created with a project-scoped token.")
    expires = parse_expiry(v.get("expires_at"))
    with core(req).db.writer() as s:
        held = {r.name: r.id for r in s.query(roles.Role).filter(roles.Role.id.in_(
            roles.effective_role_ids(s, user_id, "project", project_id)))}
        token_role_ids = app_creds.role_ids_by_name(s, req.context.roles)
        # Default: the roles of the token creating it (Keystone's rule), never more.
        wanted = v.get("roles") or [{"name": n} for n in req.context.roles if n in held]
        role_ids: list[str] = []
        for ref in wanted:
            role_id = ref.get("id") or held.get(ref.get("name", ""))
            if role_id not in held.values():
                raise exceptions.Forbidden(f"The role {ref.get('id') or ref.get('name')} is not one the user holds on "
                                           f"project {project_id}.")
            role_ids.append(str(role_id))  # one of held.values(), checked above
        app_creds.check_roles_in_token(role_ids, token_role_ids)
        if s.query(ApplicationCredential).filter_by(user_id=user_id, name=v["name"]).count():
            raise exceptions.Conflict(f"Conflict occurred attempting to store application_credential - Duplicate "
                                      f"entry found with name {v['name']}.")
        secret = v.get("secret") or secrets.token_urlsafe(64)
        conf = core(req).conf
        cred = ApplicationCredential(
            id=types.new_hex_id(), name=v["name"], description=v.get("description") or "", user_id=user_id,
            project_id=project_id, expires_at=expires, unrestricted=v.get("unrestricted", False), role_ids=role_ids,
            access_rules=app_creds.resolve_rules(s, user_id, v.get("access_rules") or []),
            secret_hash=passwords.hash_password(secret, conf.identity.password_hash_algorithm,
                                                conf.identity.password_hash_rounds))
        s.add(cred)
        s.flush()
        body = _app_cred_dict(cred, s)
    body["secret"] = secret  # shown once, never stored in the clear
    return router.json_response({"application_credential": body}, status=201)


def list_app_creds(req: router.Request, user_id: str) -> webob.Response:
    _own(req, user_id)
    with core(req).db.reader() as s:
        users.get_user(s, user_id)
        q = s.query(ApplicationCredential).filter_by(user_id=user_id)
        if req.query_one("name"):
            q = q.filter_by(name=req.query_one("name"))
        return router.json_response(collection(req, "application_credentials", [_app_cred_dict(c, s) for c in q]))


def _get_cred(s: Any, user_id: str, app_cred_id: str) -> ApplicationCredential:
    cred = s.get(ApplicationCredential, app_cred_id)
    if cred is None or cred.user_id != user_id:
        raise exceptions.NotFound(f"Could not find Application Credential: {app_cred_id}.")
    return cred


def get_app_cred(req: router.Request, user_id: str, app_cred_id: str) -> webob.Response:
    _own(req, user_id)
    with core(req).db.reader() as s:
        return router.json_response({"application_credential": _app_cred_dict(_get_cred(s, user_id, app_cred_id), s)})


def delete_app_cred(req: router.Request, user_id: str, app_cred_id: str) -> webob.Response:
    _own(req, user_id)
    app_creds.check_may_manage(middleware.token_app_cred(req.environ))
    with core(req).db.writer() as s:
        s.delete(_get_cred(s, user_id, app_cred_id))
    core(req).revoke(app_cred_id=app_cred_id)
    return router.empty_response()


# -- access rules (made with credentials, viewed and deleted on their own) -------------------

def list_access_rules(req: router.Request, user_id: str) -> webob.Response:
    _own(req, user_id)
    with core(req).db.reader() as s:
        users.get_user(s, user_id)
        rules = [app_creds.rule_to_dict(r) | {"links": {"self": f"/v3/users/{user_id}/access_rules/{r.id}"}}
                 for r in app_creds.list_rules(s, user_id)]
        for key in ("service", "method", "path"):
            wanted = req.query_one(key)
            if wanted is not None:
                rules = [r for r in rules if r[key] == wanted]
    return router.json_response(collection(req, "access_rules", rules))


def get_access_rule(req: router.Request, user_id: str, access_rule_id: str) -> webob.Response:
    _own(req, user_id)
    with core(req).db.reader() as s:
        rule: dict[str, Any] = app_creds.rule_to_dict(app_creds.get_rule(s, user_id, access_rule_id))
    rule["links"] = {"self": f"/v3/users/{user_id}/access_rules/{access_rule_id}"}
    return router.json_response({"access_rule": rule})


def delete_access_rule(req: router.Request, user_id: str, access_rule_id: str) -> webob.Response:
    _own(req, user_id)
    with core(req).db.writer() as s:
        app_creds.delete_rule(s, user_id, access_rule_id)
    return router.empty_response()


# -- credentials (blobs encrypted at rest) -------------------------------------------------

def credential_fernet(req: router.Request) -> Fernet:
    """The key credentials blobs are encrypted with ([identity] credential_key, or one made beside the token keys)."""
    conf = core(req).conf
    if conf.identity.credential_key:
        return Fernet(conf.identity.credential_key.encode())
    path = os.path.join(os.path.dirname(identity_conf.key_repository(conf)), "credential-key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    with open(path, "rb") as f:
        return Fernet(f.read().strip())


def _credential_dict(req: router.Request, c: Credential) -> dict[str, Any]:
    blob = credential_fernet(req).decrypt(c.encrypted_blob.encode()).decode()
    return {"id": c.id, "user_id": c.user_id, "project_id": c.project_id, "type": c.type, "blob": blob,
            "links": {"self": f"/v3/credentials/{c.id}"}}


def ec2_credential_id(access: str) -> str:
    """An EC2 credential's id: the hex SHA-256 of its access key (Keystone's rule)."""
    return hashlib.sha256(access.encode()).hexdigest()


def _new_credential_id(v: dict[str, Any]) -> str:
    """A random id, or for type ``ec2`` the one its access key determines (so OS-EC2 finds it)."""
    if v["type"] != "ec2":
        return hashlib.sha256(os.urandom(32)).hexdigest()
    access = _ec2_blob(v["blob"])["access"]
    if not v.get("project_id"):
        raise exceptions.BadRequest("Invalid input for field 'project_id': an ec2 credential needs a project.")
    return ec2_credential_id(access)


def create_credential(req: router.Request) -> webob.Response:
    v = entity_body(req, "credential", set(), {"blob", "type", "user_id"})
    validation.validate(v, CREDENTIAL_SCHEMA)
    _own(req, v["user_id"])
    cred_id = _new_credential_id(v)
    token = credential_fernet(req).encrypt(v["blob"].encode()).decode()
    with core(req).db.writer() as s:
        users.get_user(s, v["user_id"])
        if s.get(Credential, cred_id) is not None:
            raise exceptions.Conflict(f"Conflict occurred attempting to store credential - Duplicate ID, {cred_id}.")
        c = Credential(id=cred_id, user_id=v["user_id"],
                       project_id=v.get("project_id"), type=v["type"], encrypted_blob=token,
                       key_hash=hashlib.sha1(token[:16].encode()).hexdigest())
        s.add(c)
        s.flush()
        return router.json_response({"credential": _credential_dict(req, c)}, status=201)


def list_credentials(req: router.Request) -> webob.Response:
    with core(req).db.reader() as s:
        q = s.query(Credential)
        user_filter = req.query_one("user_id")
        if user_filter:
            q = q.filter_by(user_id=user_filter)
        if req.query_one("type"):
            q = q.filter_by(type=req.query_one("type"))
        visible = [c for c in q if core(req).policy.check(req.context, "identity:manage_own",
                                                           {"target.user.id": c.user_id})]
        return router.json_response(collection(req, "credentials", [_credential_dict(req, c) for c in visible]))


def _get_credential(req: router.Request, s: Any, credential_id: str) -> Credential:
    c = s.get(Credential, credential_id)
    if c is None or not core(req).policy.check(req.context, "identity:manage_own", {"target.user.id": c.user_id}):
        raise exceptions.NotFound(f"Could not find credential: {credential_id}.")
    return c


def get_credential(req: router.Request, credential_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        return router.json_response({"credential": _credential_dict(req, _get_credential(req, s, credential_id))})


# Keystone keeps what an ec2 credential is scoped by fixed once it exists; the keys themselves may rotate.
_EC2_SCOPE_KEYS = ("trust_id", "app_cred_id", "access_token_id", "access_id")


def _ec2_blob(blob: str) -> dict[str, Any]:
    """An ec2 blob as a dict. Raises BadRequest unless it is a JSON object with a non-empty ``access``."""
    try:
        parsed = json.loads(blob)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("access"), str) or not parsed["access"]:
        raise exceptions.BadRequest("Invalid blob in credential: an ec2 credential's blob is JSON with an access key.")
    return parsed


def update_credential(req: router.Request, credential_id: str) -> webob.Response:
    v = entity_body(req, "credential", set())
    validation.validate(v, CREDENTIAL_SCHEMA)
    with core(req).db.writer() as s:
        c = _get_credential(req, s, credential_id)
        old_blob = credential_fernet(req).decrypt(c.encrypted_blob.encode()).decode()
        for key in ("type", "project_id"):
            if key in v:
                setattr(c, key, v[key])
        if c.type == "ec2" and ("blob" in v or "type" in v):
            new = _ec2_blob(v.get("blob", old_blob))
            try:
                old = json.loads(old_blob)
            except ValueError:
                old = {}
            old = old if isinstance(old, dict) else {}
            for key in _EC2_SCOPE_KEYS:
                if old.get(key) != new.get(key):
                    raise exceptions.BadRequest(f"Invalid blob in credential: {key} of an ec2 credential cannot "
                                                "be changed.")
            if not c.project_id:
                raise exceptions.BadRequest("Invalid input for field 'project_id': an ec2 credential needs a project.")
        if "blob" in v:
            c.encrypted_blob = credential_fernet(req).encrypt(v["blob"].encode()).decode()
        return router.json_response({"credential": _credential_dict(req, c)})


def delete_credential(req: router.Request, credential_id: str) -> webob.Response:
    with core(req).db.writer() as s:
        s.delete(_get_credential(req, s, credential_id))
    return router.empty_response()
