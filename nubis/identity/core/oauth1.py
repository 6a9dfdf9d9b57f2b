"""OS-OAUTH1: delegating some of a user's roles on a project to a consumer (Keystone's OAuth 1.0a extension).

The flow, as the Identity v3 extensions API reference describes it:

1. an administrator registers a *consumer* (its id and secret are the OAuth client credentials);
2. the consumer asks for a *request token* for a project (signed with its secret);
3. a user holding roles on that project *authorizes* the request token for some of them and
   hands the *verifier* to the consumer;
4. the consumer exchanges request token and verifier for an *access token* (signed with the
   consumer and request token secrets);
5. the consumer gets project-scoped Keystone tokens with the ``oauth1`` method (signed with
   the consumer and access token secrets); they carry the delegated roles the user still holds.

Signatures are checked by oauthlib's endpoints against a validator that already holds the
rows the request names (loaded here, in the caller's session), so oauthlib itself never
touches the database. Unknown consumers and tokens are checked against dummy secrets, so
a failure takes the same path whatever was wrong. Nonces are not remembered (as in
Keystone); oauthlib refuses timestamps more than ten minutes off.
"""

from __future__ import annotations

import dataclasses
import datetime
import hmac
import secrets
import string
import urllib.parse
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oauthlib import oauth1 as oauthlib1
from oauthlib.oauth1.rfc5849 import errors as oauth_errors
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from oslo_config import cfg
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import dml, types
from nubis.identity.core import resources, roles
from nubis.identity.db.models import OAuthAccessToken, OAuthConsumer, OAuthRequestToken, Role

VERIFIER_CHARS = string.ascii_letters + string.digits
VERIFIER_LENGTH = 8
# What keystoneauth's and Tempest's OAuth1 clients sign with; PLAINTEXT and RSA are refused.
SIGNATURE_METHODS = ("HMAC-SHA1", "HMAC-SHA256", "HMAC-SHA512")
_HEX = set(string.hexdigits.lower())
_NONCE_CHARS = set(string.ascii_letters + string.digits)
_DUMMY_ID = "0" * 32


@dataclasses.dataclass(frozen=True)
class SignedRequest:
    """An OAuth1-signed HTTP request, as far as its signature covers it.

    ``url`` is the absolute URL the client called (with its query string); ``body`` the
    form-encoded body when there is one (its parameters are signed too), else None.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: str | None = None

    def oauth_params(self) -> dict[str, str]:
        """The ``oauth_*`` parameters of the ``Authorization: OAuth ...`` header (empty without one)."""
        header = next((v for k, v in self.headers.items() if k.lower() == "authorization"), "")
        if not header.lower().startswith("oauth "):
            return {}
        try:
            return dict(oauth_utils.parse_authorization_header(header))
        except (ValueError, TypeError):
            raise exceptions.BadRequest("The OAuth Authorization header is malformed.") from None


def _expired(when: datetime.datetime | None) -> bool:
    return when is not None and when <= types.utcnow()


def _expiry(seconds: int) -> datetime.datetime | None:
    return types.utcnow() + datetime.timedelta(seconds=seconds) if seconds > 0 else None


def iso(when: datetime.datetime | None) -> str | None:
    """Keystone's rendering of an OAuth expiry: ISO 8601 UTC with microseconds and ``Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if when else None


# -- the validator oauthlib asks -----------------------------------------------------------


class _Validator(oauthlib1.RequestValidator):
    """Answers oauthlib from the rows already loaded: the consumer, and the request or access token."""

    def __init__(self, consumer: OAuthConsumer | None, request_token: OAuthRequestToken | None = None,
                 access_token: OAuthAccessToken | None = None) -> None:
        super().__init__()
        self.consumer = consumer
        self.request_token = request_token
        self.access_token = access_token
        self._dummy_secret = secrets.token_hex(32)

    enforce_ssl = False  # TLS is the deployment's to terminate, as in Keystone
    allowed_signature_methods = SIGNATURE_METHODS
    dummy_client = _DUMMY_ID
    dummy_request_token = _DUMMY_ID
    dummy_access_token = _DUMMY_ID

    # Formats: our ids are 32 hex characters; nonces are what the clients make (digits, letters).
    def check_client_key(self, client_key: str) -> bool:
        return len(client_key) == 32 and set(client_key) <= _HEX

    def check_request_token(self, request_token: str) -> bool:
        return self.check_client_key(request_token)

    def check_access_token(self, request_token: str) -> bool:
        return self.check_client_key(request_token)

    def check_nonce(self, nonce: str) -> bool:
        return 0 < len(nonce) <= 255 and set(nonce) <= _NONCE_CHARS

    def check_verifier(self, verifier: str) -> bool:
        return len(verifier) == VERIFIER_LENGTH and set(verifier) <= set(VERIFIER_CHARS)

    # Secrets: the real one for the rows loaded, a random one for anything else.
    def get_client_secret(self, client_key: str, request: Any) -> str:
        c = self.consumer
        return c.secret if c is not None and c.id == client_key else self._dummy_secret

    def get_request_token_secret(self, client_key: str, token: str, request: Any) -> str:
        t = self.request_token
        return t.secret if t is not None and t.id == token else self._dummy_secret

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        t = self.access_token
        return t.secret if t is not None and t.id == token else self._dummy_secret

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return self.consumer is not None and self.consumer.id == client_key

    def validate_request_token(self, client_key: str, token: str, request: Any) -> bool:
        t = self.request_token
        return t is not None and t.id == token and t.consumer_id == client_key

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        t = self.access_token
        return t is not None and t.id == token and t.consumer_id == client_key

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: Any) -> bool:
        t = self.request_token
        return (t is not None and t.id == token and t.verifier is not None
                and hmac.compare_digest(t.verifier.encode(), verifier.encode()))

    def validate_timestamp_and_nonce(self, client_key: str, timestamp: str, nonce: str, request: Any,
                                     request_token: str | None = None, access_token: str | None = None) -> bool:
        return True

    # Keystone's flow has no realms and no redirects: the verifier goes out of band.
    def validate_redirect_uri(self, client_key: str, redirect_uri: str, request: Any) -> bool:
        return True

    def validate_requested_realms(self, client_key: str, realms: list[str], request: Any) -> bool:
        return True

    def validate_realms(self, client_key: str, token: str, request: Any, uri: str | None = None,
                        realms: list[str] | None = None) -> bool:
        return True

    def get_default_realms(self, client_key: str, request: Any) -> list[str]:
        return []

    def get_realms(self, token: str, request: Any) -> list[str]:
        return []

    def get_redirect_uri(self, token: str, request: Any) -> str:
        return "oob"

    def verify_request_token(self, token: str, request: Any) -> bool:
        return True

    def verify_realms(self, token: str, realms: list[str], request: Any) -> bool:
        return True

    # The rows are written by this module, not by oauthlib.
    def save_request_token(self, token: dict[str, Any], request: Any) -> None:
        pass

    def save_access_token(self, token: dict[str, Any], request: Any) -> None:
        pass

    def save_verifier(self, token: str, verifier: dict[str, Any], request: Any) -> None:
        pass

    def invalidate_request_token(self, client_key: str, request_token: str, request: Any) -> None:
        pass


def _answer(status: int, body: str | None, refusal: str = "Invalid signature.") -> None:
    """Turn an oauthlib endpoint's verdict into our errors (400 for a malformed request, else 401)."""
    if status == 200:
        return
    if status == 400:
        detail = dict(urllib.parse.parse_qsl(body or ""))
        raise exceptions.BadRequest(f"Invalid OAuth request: {detail.get('error_description') or 'malformed'}.")
    raise exceptions.Unauthorized(refusal)


def _headers(signed: SignedRequest) -> dict[str, str]:
    return {k: v for k, v in signed.headers.items() if k.lower() in ("authorization", "content-type")}


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise exceptions.BadRequest(f"Invalid input for field '{name}': the OAuth request must have it.")
    return value


# -- consumers --------------------------------------------------------------------------------


def consumer_to_dict(consumer: OAuthConsumer, with_secret: bool = False) -> dict[str, Any]:
    """A consumer as the API shows it; the secret only when just created."""
    out = {**(consumer.extra or {}), "id": consumer.id, "description": consumer.description,
           "links": {"self": f"/v3/OS-OAUTH1/consumers/{consumer.id}"}}
    if with_secret:
        out["secret"] = consumer.secret
    return out


def get_consumer(session: orm.Session, consumer_id: str) -> OAuthConsumer:
    """:raises exceptions.NotFound: no such consumer."""
    consumer = session.get(OAuthConsumer, consumer_id)
    if consumer is None:
        raise exceptions.NotFound(f"Could not find consumer: {consumer_id}.")
    return consumer


def list_consumers(session: orm.Session) -> list[OAuthConsumer]:
    return list(session.scalars(sa.select(OAuthConsumer).order_by(OAuthConsumer.id)))


def create_consumer(session: orm.Session, fields: dict[str, Any]) -> OAuthConsumer:
    """A new consumer with a fresh secret; fields other than ``description`` are kept as extra attributes."""
    extra = {k: v for k, v in fields.items() if k not in ("id", "description", "secret", "links")}
    consumer = OAuthConsumer(id=types.new_hex_id(), description=fields.get("description"),
                             secret=secrets.token_hex(32), extra=extra)
    session.add(consumer)
    session.flush()
    return consumer


def update_consumer(session: orm.Session, consumer_id: str, fields: dict[str, Any]) -> OAuthConsumer:
    """Change a consumer's description or extra attributes.

    :raises exceptions.NotFound: no such consumer.
    :raises exceptions.BadRequest: the body tries to change the secret or the id.
    """
    if "secret" in fields:
        raise exceptions.BadRequest("Cannot change consumer secret.")
    if "id" in fields and fields["id"] != consumer_id:
        raise exceptions.BadRequest("Cannot change the id of a consumer.")
    consumer = get_consumer(session, consumer_id)
    if "description" in fields:
        consumer.description = fields["description"]
    extra = {k: v for k, v in fields.items() if k not in ("id", "description", "links")}
    if extra:
        consumer.extra = {**(consumer.extra or {}), **extra}
    session.flush()
    return consumer


def delete_consumer(session: orm.Session, consumer_id: str) -> list[str]:
    """Delete a consumer with its request and access tokens; the ids of the access tokens, to revoke.

    :raises exceptions.NotFound: no such consumer.
    """
    get_consumer(session, consumer_id)
    gone = list(session.scalars(sa.select(OAuthAccessToken.id).where(OAuthAccessToken.consumer_id == consumer_id)))
    session.execute(sa.delete(OAuthAccessToken).where(OAuthAccessToken.consumer_id == consumer_id))
    session.execute(sa.delete(OAuthRequestToken).where(OAuthRequestToken.consumer_id == consumer_id))
    # Conditional, so that of two deletions racing the loser is a 404, not a stale-row error.
    if not dml.rowcount(session.execute(sa.delete(OAuthConsumer).where(OAuthConsumer.id == consumer_id))):
        raise exceptions.NotFound(f"Could not find consumer: {consumer_id}.")
    return gone


# -- request tokens --------------------------------------------------------------------------


def create_request_token(session: orm.Session, conf: cfg.ConfigOpts, signed: SignedRequest,
                         project_id: str | None) -> OAuthRequestToken:
    """``POST /v3/OS-OAUTH1/request_token``: a request token for ``project_id`` once the consumer's signature checks.

    :raises exceptions.BadRequest: no consumer key or project, or a malformed OAuth request.
    :raises exceptions.NotFound: no such project or consumer (as Keystone answers).
    :raises exceptions.Unauthorized: the signature does not check.
    """
    consumer_id = _required(signed.oauth_params(), "oauth_consumer_key")
    if not project_id:
        raise exceptions.BadRequest("Invalid input for field 'Requested-Project-Id': the header is required.")
    resources.get_project(session, project_id)
    consumer = get_consumer(session, consumer_id)
    endpoint = oauthlib1.RequestTokenEndpoint(_Validator(consumer))
    _, body, status = endpoint.create_request_token_response(signed.url, signed.method, signed.body,
                                                             _headers(signed))
    _answer(status, body)
    # The consumer's expired request tokens can never be used again: they go as it asks for a new one.
    session.execute(sa.delete(OAuthRequestToken).where(OAuthRequestToken.consumer_id == consumer.id,
                                                       OAuthRequestToken.expires_at <= types.utcnow()))
    token = OAuthRequestToken(id=types.new_hex_id(), secret=secrets.token_hex(32), consumer_id=consumer.id,
                              project_id=project_id, expires_at=_expiry(conf.oauth1.request_token_duration))
    session.add(token)
    session.flush()
    return token


def get_request_token(session: orm.Session, request_token_id: str) -> OAuthRequestToken:
    """:raises exceptions.NotFound: no such request token."""
    token = session.get(OAuthRequestToken, request_token_id)
    if token is None:
        raise exceptions.NotFound(f"Could not find request token: {request_token_id}.")
    return token


def _role_id(session: orm.Session, ref: Mapping[str, str]) -> str:
    if ref.get("id"):
        return roles.get_role(session, ref["id"]).id
    role = roles.find_role(session, ref.get("name", ""))
    if role is None:
        raise exceptions.NotFound(f"Could not find role: {ref.get('name')}.")
    return role.id


def authorize_request_token(session: orm.Session, request_token_id: str, user_id: str,
                            role_refs: list[dict[str, str]]) -> str:
    """``PUT /v3/OS-OAUTH1/authorize/{request_token_id}``: the user delegates ``role_refs``; the verifier.

    :raises exceptions.NotFound: no such request token or role.
    :raises exceptions.Unauthorized: the request token expired, or the user does not hold every role on
        the token's project.
    """
    token = get_request_token(session, request_token_id)
    if _expired(token.expires_at):
        raise exceptions.Unauthorized("Request token is expired.")
    wanted = list(dict.fromkeys(_role_id(session, ref) for ref in role_refs))
    try:
        held = roles.effective_role_ids(session, user_id, "project", token.project_id)
    except exceptions.NotFound:
        held = set()
    if not set(wanted) <= held:
        raise exceptions.Unauthorized("The authorizing user does not have the roles required.")
    token.authorizing_user_id = user_id
    token.role_ids = wanted
    token.verifier = "".join(secrets.choice(VERIFIER_CHARS) for _ in range(VERIFIER_LENGTH))
    session.flush()
    return token.verifier


# -- access tokens ---------------------------------------------------------------------------


def create_access_token(session: orm.Session, conf: cfg.ConfigOpts, signed: SignedRequest) -> OAuthAccessToken:
    """``POST /v3/OS-OAUTH1/access_token``: exchange an authorized request token (used up) for an access token.

    :raises exceptions.BadRequest: the consumer key, request token or verifier is missing, or the OAuth
        request is malformed.
    :raises exceptions.NotFound: no such request token.
    :raises exceptions.Unauthorized: the request token expired or was never authorized, the consumer or the
        verifier does not match, or the signature does not check.
    """
    params = signed.oauth_params()
    consumer_id = _required(params, "oauth_consumer_key")
    request_token_id = _required(params, "oauth_token")
    verifier = _required(params, "oauth_verifier")
    request_token = get_request_token(session, request_token_id)
    if _expired(request_token.expires_at):
        raise exceptions.Unauthorized("Request token is expired.")
    if request_token.authorizing_user_id is None:
        raise exceptions.Unauthorized("Request token does not have an authorizing user id.")
    consumer = session.get(OAuthConsumer, consumer_id)
    endpoint = oauthlib1.AccessTokenEndpoint(_Validator(consumer, request_token=request_token))
    _, body, status = endpoint.create_access_token_response(signed.url, signed.method, signed.body,
                                                            _headers(signed))
    wrong_verifier = not hmac.compare_digest((request_token.verifier or "").encode(), verifier.encode())
    _answer(status, body, "Provided verifier does not match stored verifier." if wrong_verifier
            else "Invalid signature.")
    access = OAuthAccessToken(id=types.new_hex_id(), secret=secrets.token_hex(32), consumer_id=request_token.consumer_id,
                              authorizing_user_id=request_token.authorizing_user_id,
                              project_id=request_token.project_id, role_ids=list(request_token.role_ids or []),
                              expires_at=_expiry(conf.oauth1.access_token_duration))
    # A request token is exchanged once: of two exchanges racing, the one that deletes it wins.
    used = session.execute(sa.delete(OAuthRequestToken).where(OAuthRequestToken.id == request_token.id))
    if not dml.rowcount(used):
        raise exceptions.NotFound(f"Could not find request token: {request_token.id}.")
    session.expunge(request_token)
    session.add(access)
    session.flush()
    return access


def authenticate(session: orm.Session, signed: SignedRequest) -> OAuthAccessToken:
    """The ``oauth1`` method of ``POST /v3/auth/tokens``: the live access token that signed the request.

    :raises exceptions.BadRequest: no ``oauth_token`` in the request.
    :raises exceptions.Unauthorized: no such access token, it expired, or the signature does not check.
    """
    access_token_id = _required(signed.oauth_params(), "oauth_token")
    access = session.get(OAuthAccessToken, access_token_id)
    if access is not None and _expired(access.expires_at):
        raise exceptions.Unauthorized("Access token is expired.")
    consumer = session.get(OAuthConsumer, access.consumer_id) if access is not None else None
    endpoint = oauthlib1.ResourceEndpoint(_Validator(consumer, access_token=access))
    try:
        valid, _ = endpoint.validate_protected_resource_request(signed.url, signed.method, signed.body,
                                                                _headers(signed))
    except oauth_errors.OAuth1Error:
        valid = False
    if not valid or access is None:
        raise exceptions.Unauthorized("Could not validate the access token.")
    return access


def live_access_token(session: orm.Session, access_token_id: str) -> OAuthAccessToken:
    """The access token a token was issued from, while it lasts.

    :raises exceptions.NotFound: it was deleted (or its consumer was).
    :raises exceptions.Unauthorized: it expired.
    """
    access = session.get(OAuthAccessToken, access_token_id)
    if access is None:
        raise exceptions.NotFound(f"Could not find access token: {access_token_id}.")
    if _expired(access.expires_at):
        raise exceptions.Unauthorized("Access token is expired.")
    return access


def token_role_ids(session: orm.Session, access: OAuthAccessToken) -> set[str]:
    """The roles a token issued from ``access`` carries: the delegated ones (and those they imply) that the
    authorizing user still holds on the project."""
    delegated = set(roles.expand_implied(access.role_ids, roles.implied_map(session)))
    return delegated & roles.effective_role_ids(session, access.authorizing_user_id, "project", access.project_id)


def access_token_to_dict(access: OAuthAccessToken) -> dict[str, Any]:
    """An access token as the API shows it: never its secret or its roles (those have their own path)."""
    base = f"/v3/users/{access.authorizing_user_id}/OS-OAUTH1/access_tokens/{access.id}"
    return {"id": access.id, "consumer_id": access.consumer_id, "project_id": access.project_id,
            "authorizing_user_id": access.authorizing_user_id, "expires_at": iso(access.expires_at),
            "links": {"self": base, "roles": base + "/roles"}}


def list_access_tokens(session: orm.Session, user_id: str) -> list[OAuthAccessToken]:
    """A user's access tokens (expired ones too, as Keystone lists them, until deleted)."""
    return list(session.scalars(sa.select(OAuthAccessToken).where(OAuthAccessToken.authorizing_user_id == user_id)
                                .order_by(OAuthAccessToken.id)))


def get_access_token(session: orm.Session, user_id: str, access_token_id: str) -> OAuthAccessToken:
    """:raises exceptions.NotFound: no such access token of this user."""
    access = session.get(OAuthAccessToken, access_token_id)
    if access is None or access.authorizing_user_id != user_id:
        raise exceptions.NotFound(f"Could not find access token: {access_token_id}.")
    return access


def delete_access_token(session: orm.Session, user_id: str, access_token_id: str) -> None:
    """Delete one of a user's access tokens (the caller revokes the tokens issued from it).

    :raises exceptions.NotFound: no such access token of this user (or another deletion won the race).
    """
    get_access_token(session, user_id, access_token_id)
    if not dml.rowcount(session.execute(sa.delete(OAuthAccessToken).where(OAuthAccessToken.id == access_token_id))):
        raise exceptions.NotFound(f"Could not find access token: {access_token_id}.")


def access_token_roles(session: orm.Session, access: OAuthAccessToken) -> list[Role]:
    """The roles delegated by an access token (as authorized), by name."""
    return list(session.scalars(sa.select(Role).where(Role.id.in_(access.role_ids)).order_by(Role.name)))


def role_to_dict(role: Role) -> dict[str, Any]:
    """A delegated role as the access-token role paths show it (Keystone drops the description)."""
    out = roles.role_to_dict(role)
    out.pop("description", None)
    return out
