"""``POST /v3/auth/tokens``: who is authenticating (password, token, application
credential, OS-OAUTH1 access token) and which scope they asked for.

Every failure to authenticate answers the same 401 text: the caller never
learns whether the user or the password was wrong.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity import passwords
from nubis.identity.core import app_creds, oauth1, resources, users
from nubis.identity.db.models import ApplicationCredential, OAuthAccessToken, Password, User
from nubis.identity.tokens import payload as token_payload
from nubis.identity.tokens import provider


class IdentityCore(Protocol):
    """What identifying a caller needs from the identity core (narrow, so this module need not import it)."""

    conf: cfg.ConfigOpts
    tokens: provider.TokenProvider
    dummy_hash: str

    def record_failed_auth(self, user_id: str) -> None: ...

    def reset_failed_auth(self, user_id: str) -> None: ...

GENERIC_401 = "The request you have made requires authentication."


@dataclasses.dataclass
class Authenticated:
    user_id: str
    methods: list[str]
    parent: token_payload.Payload | None = None
    app_cred: ApplicationCredential | None = None
    access_token: OAuthAccessToken | None = None  # the ``oauth1`` method: the delegation it acts under


def _fail() -> exceptions.Unauthorized:
    return exceptions.Unauthorized(GENERIC_401)


def _domain_id(session: orm.Session, ref: dict[str, Any] | None) -> str:
    if not isinstance(ref, dict) or not (ref.get("id") or ref.get("name")):
        raise exceptions.BadRequest("A domain reference needs an id or a name.")
    if ref.get("id"):
        return str(ref["id"])
    try:
        return resources.find_domain_by_name(session, ref["name"]).id
    except exceptions.NotFound:
        raise _fail() from None


def _resolve_user(session: orm.Session, ref: dict[str, Any]) -> User | None:
    if ref.get("id"):
        return session.get(User, ref["id"])
    if ref.get("name"):
        return users.find_user(session, ref["name"], _domain_id(session, ref.get("domain")))
    raise exceptions.BadRequest("Expecting to find user id, or user name and domain, in the password method.")


def _password(core: IdentityCore, session: orm.Session, data: dict[str, Any]) -> str:
    ref = data.get("user") or {}
    secret = ref.get("password")
    if not isinstance(secret, str):
        raise exceptions.BadRequest("Expecting to find a password for the user.")
    user = _resolve_user(session, ref)
    if user is None:
        # Spend the same time as a real check so timing does not tell who exists.
        passwords.verify_password(secret, core.dummy_hash)
        raise _fail()
    current = check_password(core, session, user, secret)
    if current.expires_at is not None and current.expires_at < types.utcnow():
        raise exceptions.Unauthorized(f"The password is expired and needs to be changed for user: {user.id}.")
    if user.failed_auth_count:
        core.reset_failed_auth(user.id)
    return user.id


def check_password(core: IdentityCore, session: orm.Session, user: User, secret: str) -> Password:
    """The user's current password row, once ``secret`` matched it and the account is not locked out.

    A mismatch counts towards ``[security_compliance] lockout_failure_attempts``
    (recorded in its own transaction, so it survives this request failing).

    :raises exceptions.Unauthorized: locked out (for ``lockout_duration`` seconds) or a wrong password.
    """
    sc = core.conf.security_compliance
    if sc.lockout_failure_attempts and user.failed_auth_count >= sc.lockout_failure_attempts and user.failed_auth_at \
            and types.utcnow() - user.failed_auth_at < datetime.timedelta(seconds=sc.lockout_duration):
        raise exceptions.Unauthorized(f"The account is locked for user: {user.id}.")
    current = users.current_password(session, user.id)
    if current is None or not passwords.verify_password(secret, current.password_hash):
        core.record_failed_auth(user.id)
        raise _fail()
    return current


def _app_cred(core: IdentityCore, session: orm.Session, data: dict[str, Any]) -> ApplicationCredential:
    secret = data.get("secret")
    if not isinstance(secret, str):
        raise exceptions.BadRequest("Expecting to find a secret for the application credential.")
    cred: ApplicationCredential | None
    if data.get("id"):
        cred = session.get(ApplicationCredential, data["id"])
    elif data.get("name"):
        user = _resolve_user(session, data.get("user") or {})
        cred = None if user is None else session.scalars(sa.select(ApplicationCredential).where(
            ApplicationCredential.user_id == user.id, ApplicationCredential.name == data["name"])).first()
    else:
        raise exceptions.BadRequest("Expecting to find an application credential id, or name and user.")
    if cred is None or not passwords.verify_password(secret, cred.secret_hash):
        raise _fail()
    if cred.expires_at is not None and cred.expires_at < types.utcnow():
        raise _fail()
    return cred


def identify(core: IdentityCore, session: orm.Session, identity: dict[str, Any],
             signed: oauth1.SignedRequest | None = None) -> Authenticated:
    """Who the ``identity`` of a token request proves the caller to be.

    ``signed`` is the HTTP request itself, which the ``oauth1`` method needs (its proof is the
    request's OAuth signature, not the body).

    :raises exceptions.BadRequest: a method's object is missing or malformed.
    :raises exceptions.Unauthorized: a method fails, methods name different users, or a method is unknown.
    :raises exceptions.Forbidden: a token that may not be exchanged (application credential, trust, OAuth).
    """
    methods = identity.get("methods")
    if not isinstance(methods, list) or not methods:
        raise exceptions.BadRequest("Invalid input for field 'identity': 'methods' must name at least one method.")
    result: Authenticated | None = None
    for method in methods:
        data = identity.get(method)
        if not isinstance(data, dict):
            raise exceptions.BadRequest(f"The '{method}' method needs an object of the same name in 'identity'.")
        if method == "password":
            user_id = _password(core, session, data)
        elif method == "token":
            parent = core.tokens.decode(str(data.get("id", "")))
            core.tokens.validate(str(data.get("id", "")))
            if parent.app_cred_id:
                raise exceptions.Forbidden(app_creds.RESCOPE_FORBIDDEN)
            if parent.trust_id:
                raise exceptions.Forbidden("A trust-scoped token cannot be used to get another token.")
            if parent.access_token_id:
                raise exceptions.Forbidden("An OAuth-scoped token cannot be used to get another token; "
                                           "get a new one with the oauth1 method instead.")
            user_id = parent.user_id
            found = Authenticated(user_id, list(parent.methods), parent=parent)
            result = found if result is None else result
            continue
        elif method == "application_credential":
            cred = _app_cred(core, session, data)
            user_id = cred.user_id
            result = result or Authenticated(user_id, [])
            result.app_cred = cred
        elif method == "oauth1":
            if signed is None:
                raise _fail()
            access = oauth1.authenticate(session, signed)
            user_id = access.authorizing_user_id
            result = result or Authenticated(user_id, [])
            result.access_token = access
        else:
            raise exceptions.Unauthorized(f"Attempted to authenticate with an unsupported method: {method}.")
        if result is not None and result.user_id != user_id:
            raise _fail()
        result = result or Authenticated(user_id, [])
    assert result is not None
    for method in methods:
        if method not in result.methods:
            result.methods.append(method)
    return result


def resolve_scope(session: orm.Session, who: Authenticated, scope: Any) -> tuple[str, str | None]:
    """``(scope kind, id)`` for the request's scope; defaults like Keystone's."""
    if who.app_cred is not None:
        if scope and not (isinstance(scope, dict) and scope.get("project", {}).get("id") == who.app_cred.project_id):
            raise exceptions.Unauthorized("Application credentials cannot request a scope.")
        return "project", who.app_cred.project_id
    if who.access_token is not None:
        # Keystone scopes an OAuth token to its access token's project; asking for another is refused.
        if scope and not (isinstance(scope, dict) and scope.get("project", {}).get("id") == who.access_token.project_id):
            raise exceptions.Unauthorized("An OAuth token is scoped to its access token's project only.")
        return "project", who.access_token.project_id
    if scope == "unscoped":  # keystoneauth's explicit request for an unscoped token
        return "unscoped", None
    if not scope:
        if who.parent is not None:
            return who.parent.scope, who.parent.scope_id
        user = session.get(User, who.user_id)
        if user is not None and user.default_project_id:
            from nubis.identity.core import roles

            try:
                if roles.effective_role_ids(session, user.id, "project", user.default_project_id):
                    return "project", user.default_project_id
            except exceptions.NotFound:
                pass
        return "unscoped", None
    if not isinstance(scope, dict) or len(scope) != 1:
        raise exceptions.BadRequest("Specify exactly one of project, domain or system as the scope.")
    kind, ref = next(iter(scope.items()))
    if kind == "system":
        if ref != {"all": True}:
            raise exceptions.BadRequest("The system scope must be {\"all\": true}.")
        return "system", "all"
    if kind == "domain":
        if ref.get("id"):
            return "domain", str(ref["id"])
        return "domain", _domain_id(session, ref)
    if kind == "project":
        if ref.get("id"):
            return "project", str(ref["id"])
        if not ref.get("name"):
            raise exceptions.BadRequest("A project scope needs an id, or a name and a domain.")
        try:
            return "project", resources.find_project(session, ref["name"], _domain_id(session, ref.get("domain"))).id
        except exceptions.NotFound:
            raise exceptions.Unauthorized(f"Could not find project: {ref['name']}.") from None
    raise exceptions.BadRequest(f"Unknown scope {kind!r}; use project, domain or system.")
