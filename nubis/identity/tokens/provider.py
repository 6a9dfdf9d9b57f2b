"""Issuing and validating tokens: the Fernet payload plus what the DB says now.

A token is never stored. Validation decrypts it, checks expiry and revocation
events, and rebuilds the response body from the current user, project and
role assignments; the result is cached (keyed by the revocation epoch) so a
repeated validation touches no database at all.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from typing import Any

from dogpile.cache.api import NO_VALUE
from dogpile.cache.region import CacheRegion
from oslo_config import cfg
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.identity import conf as identity_conf
from nubis.identity.core import app_creds, catalog, oauth1, resources, revocations, roles, trusts, users
from nubis.identity.db.models import ApplicationCredential, Role
from nubis.identity.tokens import keys
from nubis.identity.tokens import payload as token_payload

TokenBody = dict[str, Any]


class TokenNotFound(exceptions.NotFound):
    pass


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TokenProvider:
    def __init__(self, db: Database, conf: cfg.ConfigOpts, region: CacheRegion) -> None:
        self.db = db
        self.conf = conf
        self.region = region
        self.keyring = keys.KeyRing(identity_conf.key_repository(conf))

    # -- issue -------------------------------------------------------------------

    def issue(self, session: orm.Session, user_id: str, methods: tuple[str, ...], scope: str, scope_id: str | None,
              parent: token_payload.Payload | None = None, app_cred_id: str | None = None,
              trust_id: str | None = None, access_token_id: str | None = None) -> tuple[str, TokenBody]:
        now = time.time()
        expires = now + self.conf.token.expiration
        if app_cred_id:
            cred = session.get(ApplicationCredential, app_cred_id)
            cap = app_creds.expiry_cap(cred) if cred is not None else None
            if cap is not None:
                expires = min(expires, cap)  # a credential's token never outlives the credential
        if parent is not None:
            expires = min(expires, parent.expires_at)  # rescoping never extends a token's life
            audit_ids: tuple[str, ...] = (token_payload.new_audit_id(), parent.audit_ids[-1])
        else:
            audit_ids = (token_payload.new_audit_id(),)
        if trust_id:
            trust = trusts.get_trust(session, trust_id)
            if trust.expires_at is not None:  # a trust's token never outlives the trust
                expires = min(expires, trust.expires_at.replace(tzinfo=datetime.UTC).timestamp())
        if access_token_id:
            access = oauth1.live_access_token(session, access_token_id)
            if access.expires_at is not None:  # an OAuth token never outlives its access token
                expires = min(expires, access.expires_at.replace(tzinfo=datetime.UTC).timestamp())
        p = token_payload.Payload(user_id, methods, scope, scope_id, now, int(expires), audit_ids, app_cred_id,
                                  trust_id, access_token_id)
        token_id = token_payload.encode(p, self.keyring.fernet())
        return token_id, self.build_body(session, p)

    # -- validate -----------------------------------------------------------------

    def validate(self, token_id: str, allow_expired: bool = False) -> TokenBody:
        """The token body, or ``TokenNotFound`` (expired, revoked, tampered, or its user/project gone)."""
        cache_key = "token:" + hashlib.sha256(token_id.encode()).hexdigest()
        epoch, (cached,) = revocations.epoch_and(self.region, self.db.reader, [cache_key])
        # The key set is part of the stamp: once rotation drops the key a token
        # was made with, a cached "valid" for it must not be used any more.
        stamp = (epoch, self.keyring.fingerprint())
        if cached is not NO_VALUE and tuple(cached[0]) == stamp:  # type: ignore[index]
            body = cached[1]  # type: ignore[index]
        else:
            body = self._validate_uncached(token_id)
            self.region.set(cache_key, [list(stamp), body])
        self._check_expiry(body, allow_expired)
        return body

    def decode(self, token_id: str) -> token_payload.Payload:
        try:
            return token_payload.decode(token_id, self.keyring.fernet())
        except token_payload.MalformedToken:
            raise TokenNotFound("Failed to validate token") from None

    def _check_expiry(self, body: TokenBody, allow_expired: bool) -> None:
        expires = body["_expires_at"]
        window = self.conf.token.allow_expired_window if allow_expired else 0
        if time.time() > expires + window:
            raise TokenNotFound("Failed to validate token")

    def _validate_uncached(self, token_id: str) -> TokenBody:
        p = self.decode(token_id)
        with self.db.reader() as session:
            try:
                body = self.build_body(session, p)
            except (exceptions.NotFound, exceptions.Unauthorized):
                raise TokenNotFound("Failed to validate token") from None
            project_domain = body["token"].get("project", {}).get("domain", {}).get("id")
            if revocations.is_revoked(session, p, project_domain):
                raise TokenNotFound("Failed to validate token")
        return body

    # -- the response body -----------------------------------------------------------

    def build_body(self, session: orm.Session, p: token_payload.Payload) -> TokenBody:
        user = users.get_user(session, p.user_id)
        user_domain = resources.get_domain(session, user.domain_id)
        if not user.enabled or not user_domain.enabled:
            raise exceptions.Unauthorized("The request you have made requires authentication.")
        password = users.current_password(session, user.id)
        token: dict[str, Any] = {
            "methods": list(p.methods),
            "user": {"id": user.id, "name": user.name, "domain": {"id": user_domain.id, "name": user_domain.name},
                     "password_expires_at": iso(password.expires_at.replace(tzinfo=datetime.UTC).timestamp())
                     if password is not None and password.expires_at else None},
            "audit_ids": list(p.audit_ids),
            "issued_at": iso(p.issued_at),
            "expires_at": iso(p.expires_at),
        }
        role_ids: set[str] = set()
        if p.scope == "project":
            project = resources.get_project(session, p.scope_id or "")
            domain = resources.get_domain(session, project.domain_id)
            if not project.enabled or not domain.enabled:
                raise exceptions.Unauthorized(f"Project {project.id} is disabled.")
            token["project"] = {"id": project.id, "name": project.name, "domain": {"id": domain.id, "name": domain.name}}
            token["is_domain"] = False
            admin_project = self.conf.resource.admin_project_name
            # No admin project configured: every project is one (Keystone's rule).
            token["is_admin_project"] = not admin_project or (
                project.name == admin_project and domain.name == self.conf.resource.admin_project_domain_name)
        elif p.scope == "domain":
            domain = resources.get_domain(session, p.scope_id or "")
            if not domain.enabled:
                raise exceptions.Unauthorized(f"Domain {domain.id} is disabled.")
            token["domain"] = {"id": domain.id, "name": domain.name}
        elif p.scope == "system":
            token["system"] = {"all": True}
        if p.scope != "unscoped":
            if p.trust_id:
                trust = trusts.get_trust(session, p.trust_id)
                role_ids = trusts.token_role_ids(session, trust)
                token["OS-TRUST:trust"] = {"id": trust.id, "impersonation": trust.impersonation,
                                           "trustor_user": {"id": trust.trustor_user_id},
                                           "trustee_user": {"id": trust.trustee_user_id}}
            elif p.access_token_id:
                access = oauth1.live_access_token(session, p.access_token_id)
                if access.authorizing_user_id != user.id or p.scope_id != access.project_id:
                    raise exceptions.Unauthorized("The token does not match its OAuth access token.")
                role_ids = oauth1.token_role_ids(session, access)
                token["OS-OAUTH1"] = {"access_token_id": access.id, "consumer_id": access.consumer_id}
            else:
                role_ids = roles.effective_role_ids(session, user.id, p.scope, p.scope_id)
            if p.app_cred_id:
                role_ids = app_creds.token_roles(session, self._app_cred(session, p.app_cred_id), role_ids)
            if not role_ids:
                raise exceptions.Unauthorized(f"User {user.id} has no access to {p.scope} {p.scope_id}.")
            token["roles"] = [{"id": r.id, "name": r.name} for r in
                              session.query(Role).filter(Role.id.in_(role_ids)).order_by(Role.name)]
            token["catalog"] = catalog.build(session, p.scope_id if p.scope == "project" else None)
        if p.app_cred_id:
            cred = self._app_cred(session, p.app_cred_id)
            token["application_credential"] = {"id": cred.id, "name": cred.name, "restricted": not cred.unrestricted}
            if cred.access_rules:
                # As Keystone renders them; keystonemiddleware on every API enforces them.
                token["application_credential"]["access_rules"] = list(cred.access_rules)
        return {"token": token, "_expires_at": p.expires_at}

    @staticmethod
    def _app_cred(session: orm.Session, app_cred_id: str) -> ApplicationCredential:
        cred = session.get(ApplicationCredential, app_cred_id)
        if cred is None:
            raise exceptions.NotFound("application credential is gone")
        if cred.expires_at is not None and cred.expires_at < datetime.datetime.now(datetime.UTC).replace(tzinfo=None):
            raise exceptions.Unauthorized("The application credential has expired.")
        return cred


def public_body(body: TokenBody, include_catalog: bool = True) -> dict[str, Any]:
    """The body as the API returns it (without our private fields)."""
    token = dict(body["token"])
    if not include_catalog:
        token.pop("catalog", None)
    return {"token": token}
