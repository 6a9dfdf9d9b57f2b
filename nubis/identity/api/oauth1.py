"""``/v3/OS-OAUTH1``: consumers, the request/authorize/access token flow, and a user's access tokens.

As the Identity v3 extensions API reference (OS-OAUTH1) describes it. The request and
access token calls are signed with OAuth 1.0a instead of carrying a Keystone token, and
answer form-encoded (``oauth_token=...&oauth_token_secret=...&oauth_expires_at=...``).
"""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.identity.api import auth_schema, middleware
from nubis.identity.api.common import authorize, collection, core, entity_body
from nubis.identity.core import oauth1, roles

_DESCRIPTION = {"type": ["string", "null"], "maxLength": 65535}
CONSUMER_CREATE: dict[str, Any] = {"type": "object", "properties": {"description": _DESCRIPTION}}
CONSUMER_UPDATE: dict[str, Any] = {"type": "object", "properties": {"description": _DESCRIPTION}}
_ROLE_REF = {"type": "object", "properties": {"id": auth_schema.ID, "name": auth_schema.NAME},
             "anyOf": [{"required": ["id"]}, {"required": ["name"]}]}
AUTHORIZE: dict[str, Any] = {"type": "object", "properties": {
    "roles": {"type": "array", "items": _ROLE_REF, "minItems": 1, "maxItems": 100}}, "required": ["roles"]}

_FORM = "application/x-www-form-urlencoded"


def signed_request(req: router.Request) -> oauth1.SignedRequest:
    """The parts of ``req`` an OAuth signature covers (the URL is the one the API is published at)."""
    body = req.text if req.content_type == _FORM and req.body else None
    return oauth1.SignedRequest(req.method, req.url, dict(req.headers), body)


def _form_response(token_id: str, secret: str, expires_at: str | None) -> webob.Response:
    # Written out as Keystone does: ids, hex secrets and the timestamp need no escaping for its clients.
    text = f"oauth_token={token_id}&oauth_token_secret={secret}"
    if expires_at:
        text += f"&oauth_expires_at={expires_at}"
    resp = webob.Response(status=201, body=text.encode())
    resp.content_type = _FORM
    return resp


# -- consumers ------------------------------------------------------------------------------------


def create_consumer(req: router.Request) -> webob.Response:
    fields = entity_body(req, "consumer", set())
    validation.validate(fields, CONSUMER_CREATE)
    authorize(req, "create_consumer")
    with core(req).db.writer() as s:
        consumer = oauth1.create_consumer(s, fields)
        return router.json_response({"consumer": oauth1.consumer_to_dict(consumer, with_secret=True)}, status=201)


def list_consumers(req: router.Request) -> webob.Response:
    authorize(req, "list_consumers")
    with core(req).db.reader() as s:
        return router.json_response(collection(req, "consumers",
                                               [oauth1.consumer_to_dict(c) for c in oauth1.list_consumers(s)]))


def get_consumer(req: router.Request, consumer_id: str) -> webob.Response:
    authorize(req, "get_consumer")
    with core(req).db.reader() as s:
        return router.json_response({"consumer": oauth1.consumer_to_dict(oauth1.get_consumer(s, consumer_id))})


def update_consumer(req: router.Request, consumer_id: str) -> webob.Response:
    fields = entity_body(req, "consumer", set())
    validation.validate(fields, CONSUMER_UPDATE)
    authorize(req, "update_consumer")
    with core(req).db.writer() as s:
        consumer = oauth1.update_consumer(s, consumer_id, fields)
        return router.json_response({"consumer": oauth1.consumer_to_dict(consumer)})


def delete_consumer(req: router.Request, consumer_id: str) -> webob.Response:
    authorize(req, "delete_consumer")
    core(req).delete_oauth_consumer(consumer_id)
    return router.empty_response()


# -- the delegation flow ------------------------------------------------------------------------------


@router.public
def create_request_token(req: router.Request) -> webob.Response:
    """Signed by the consumer (no Keystone token): anyone holding a consumer's secret may ask."""
    with core(req).db.writer() as s:
        token = oauth1.create_request_token(s, core(req).conf, signed_request(req),
                                            req.headers.get("Requested-Project-Id"))
        return _form_response(token.id, token.secret, oauth1.iso(token.expires_at))


def authorize_request_token(req: router.Request, request_token_id: str) -> webob.Response:
    body = req.json_body()
    validation.validate(body, AUTHORIZE)
    authorize(req, "authorize_request_token")
    middleware.require_not_delegated(req.environ, "authorize a request token")
    with core(req).db.writer() as s:
        verifier = oauth1.authorize_request_token(s, request_token_id, str(req.context.user_id), body["roles"])
    return router.json_response({"token": {"oauth_verifier": verifier}})


@router.public
def create_access_token(req: router.Request) -> webob.Response:
    """Signed by the consumer with the authorized request token and its verifier (no Keystone token)."""
    with core(req).db.writer() as s:
        access = oauth1.create_access_token(s, core(req).conf, signed_request(req))
        return _form_response(access.id, access.secret, oauth1.iso(access.expires_at))


# -- a user's access tokens ---------------------------------------------------------------------------


def _user_target(user_id: str) -> dict[str, Any]:
    return {"target.user.id": user_id}


def list_access_tokens(req: router.Request, user_id: str) -> webob.Response:
    authorize(req, "list_access_tokens", _user_target(user_id))
    middleware.require_not_delegated(req.environ, "list access tokens")
    with core(req).db.reader() as s:
        items = [oauth1.access_token_to_dict(a) for a in oauth1.list_access_tokens(s, user_id)]
        return router.json_response(collection(req, "access_tokens", items))


def get_access_token(req: router.Request, user_id: str, access_token_id: str) -> webob.Response:
    authorize(req, "get_access_token", _user_target(user_id))
    with core(req).db.reader() as s:
        access = oauth1.get_access_token(s, user_id, access_token_id)
        return router.json_response({"access_token": oauth1.access_token_to_dict(access)})


def delete_access_token(req: router.Request, user_id: str, access_token_id: str) -> webob.Response:
    authorize(req, "delete_access_token", _user_target(user_id))
    middleware.require_not_delegated(req.environ, "delete an access token")
    core(req).delete_oauth_access_token(user_id, access_token_id)
    return router.empty_response()


def list_access_token_roles(req: router.Request, user_id: str, access_token_id: str) -> webob.Response:
    authorize(req, "list_access_token_roles", _user_target(user_id))
    with core(req).db.reader() as s:
        access = oauth1.get_access_token(s, user_id, access_token_id)
        items = [oauth1.role_to_dict(r) for r in oauth1.access_token_roles(s, access)]
        return router.json_response(collection(req, "roles", items))


def get_access_token_role(req: router.Request, user_id: str, access_token_id: str, role_id: str) -> webob.Response:
    authorize(req, "get_access_token_role", _user_target(user_id))
    with core(req).db.reader() as s:
        access = oauth1.get_access_token(s, user_id, access_token_id)
        if role_id not in access.role_ids:
            raise exceptions.NotFound(f"Could not find role: {role_id}.")
        return router.json_response({"role": oauth1.role_to_dict(roles.get_role(s, role_id))})
