"""``/v3/users/{user_id}/credentials/OS-EC2``: EC2-style access/secret pairs (Keystone's OS-EC2).

They are ordinary credentials of type ``ec2`` (so ``/v3/credentials`` lists them
too) whose id is the SHA-256 of the access key, as in Keystone; the access key
names them in these paths.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.identity.api.common import authorize, collection, core
from nubis.identity.api.credentials import credential_fernet, ec2_credential_id
from nubis.identity.core import resources, users
from nubis.identity.db.models import Credential

EC2_SCHEMA = {"type": "object", "properties": {"tenant_id": {"type": "string", "minLength": 1, "maxLength": 64}},
              "required": ["tenant_id"], "additionalProperties": False}


def _to_dict(req: router.Request, c: Credential) -> dict[str, Any]:
    blob = json.loads(credential_fernet(req).decrypt(c.encrypted_blob.encode()).decode())
    return {"user_id": c.user_id, "tenant_id": c.project_id, "access": blob.get("access"),
            "secret": blob.get("secret"), "trust_id": blob.get("trust_id"),
            "links": {"self": f"{req.application_url}/v3/users/{c.user_id}/credentials/OS-EC2/{blob.get('access')}"}}


def _own(req: router.Request, user_id: str) -> None:
    authorize(req, "manage_own", {"target.user.id": user_id})


def _get(s: Any, user_id: str, access: str) -> Credential:
    c = s.get(Credential, ec2_credential_id(access))
    if c is None or c.type != "ec2" or c.user_id != user_id:
        raise exceptions.NotFound(f"Could not find credential: {access}.")
    return c


def create_ec2(req: router.Request, user_id: str) -> webob.Response:
    _own(req, user_id)
    body = req.json_body()
    validation.validate(body, EC2_SCHEMA)
    access, secret = secrets.token_hex(16), secrets.token_hex(16)
    blob = json.dumps({"access": access, "secret": secret, "trust_id": None})
    token = credential_fernet(req).encrypt(blob.encode()).decode()
    with core(req).db.writer() as s:
        users.get_user(s, user_id)
        resources.get_project(s, body["tenant_id"])
        c = Credential(id=ec2_credential_id(access), user_id=user_id, project_id=body["tenant_id"], type="ec2",
                       encrypted_blob=token, key_hash=hashlib.sha1(token[:16].encode()).hexdigest())
        s.add(c)
        s.flush()
        return router.json_response({"credential": _to_dict(req, c)}, status=201)


def list_ec2(req: router.Request, user_id: str) -> webob.Response:
    _own(req, user_id)
    with core(req).db.reader() as s:
        users.get_user(s, user_id)
        found = s.query(Credential).filter_by(user_id=user_id, type="ec2").order_by(Credential.id)
        return router.json_response(collection(req, "credentials", [_to_dict(req, c) for c in found]))


def get_ec2(req: router.Request, user_id: str, credential_id: str) -> webob.Response:
    _own(req, user_id)
    with core(req).db.reader() as s:
        return router.json_response({"credential": _to_dict(req, _get(s, user_id, credential_id))})


def delete_ec2(req: router.Request, user_id: str, credential_id: str) -> webob.Response:
    _own(req, user_id)
    with core(req).db.writer() as s:
        s.delete(_get(s, user_id, credential_id))
    return router.empty_response()
