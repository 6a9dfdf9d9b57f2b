"""The identity service's core: what handlers call. It only composes the pieces."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from dogpile.cache.region import CacheRegion
from oslo_config import cfg

from nubis.common import cache, exceptions, token_cache
from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.common.policy import Policy
from nubis.identity import conf as identity_conf
from nubis.identity import passwords, policies
from nubis.identity.core import auth, oauth1, revocations, trusts, users
from nubis.identity.db.models import User
from nubis.identity.tokens import provider

# Authentication methods that check a secret with the (deliberately slow) password hash.
HASHED_METHODS = {"password", "application_credential"}


class IdentityCore:
    def __init__(self, conf: cfg.ConfigOpts, db: Database) -> None:
        self.conf = conf
        self.db = db
        self.region: CacheRegion = cache.make_region(conf, "identity", conf.token.cache_time)
        self.tokens = provider.TokenProvider(db, conf, self.region)
        self.policy: Policy = policies.make(conf)
        # Checked against when a user does not exist, so both paths cost one hash.
        self.dummy_hash = passwords.hash_password("x", conf.identity.password_hash_algorithm,
                                                  conf.identity.password_hash_rounds)
        self.hash_gate = passwords.HashGate(identity_conf.password_hash_concurrency(conf),
                                            conf.identity.password_hash_queue)

    @contextlib.contextmanager
    def hashing(self) -> Iterator[None]:
        """A password-hashing slot, or 503 with Retry-After (Keystone's error body) when too many wait."""
        try:
            with self.hash_gate.slot():
                yield
        except passwords.HashQueueFull as exc:
            raise exceptions.ServiceUnavailable(
                "Too many password checks are in progress; retry later.",
                headers={"Retry-After": str(exc.retry_after)}) from None

    # -- tokens ----------------------------------------------------------------------

    @retry_on_deadlock
    def issue_token(self, body: dict[str, Any],
                    signed: oauth1.SignedRequest | None = None) -> tuple[str, provider.TokenBody]:
        """``POST /v3/auth/tokens``: a new token and its body.

        ``signed`` is the HTTP request, for the ``oauth1`` method (its OAuth signature).

        :raises exceptions.BadRequest: malformed identity or scope.
        :raises exceptions.Unauthorized: authentication failed, or the scope is not the caller's.
        :raises exceptions.Forbidden: a scope the method may not ask for (trust with an application
            credential or OAuth, a trust's spent uses).
        """
        request = body.get("auth") if isinstance(body, dict) else None
        if not isinstance(request, dict) or not isinstance(request.get("identity"), dict):
            raise exceptions.BadRequest("Expecting to find identity in auth.")
        methods = request["identity"].get("methods") or []
        # Admission before any work: a login that will hash a secret waits for a slot first.
        gate = self.hashing() if set(methods) & HASHED_METHODS else contextlib.nullcontext()
        requested = request.get("scope")
        trust_ref = requested.get("OS-TRUST:trust") if isinstance(requested, dict) else None
        with gate, self.db.reader() as session:
            who = auth.identify(self, session, request["identity"], signed)
            user_id, trust_id = who.user_id, None
            if isinstance(trust_ref, dict):
                if who.app_cred is not None:
                    raise exceptions.Forbidden("Application credentials cannot be used to get a trust-scoped token.")
                if who.access_token is not None:
                    raise exceptions.Forbidden("An OAuth access token cannot be used to get a trust-scoped token.")
                trust = trusts.check_scope(session, str(trust_ref.get("id")), who.user_id)
                user_id, trust_id = trusts.token_user(trust), trust.id
                scope, scope_id = ("project", trust.project_id) if trust.project_id else ("unscoped", None)
            else:
                scope, scope_id = auth.resolve_scope(session, who, requested)
            try:
                issued = self.tokens.issue(session, user_id, tuple(who.methods), scope, scope_id,
                                           parent=who.parent, app_cred_id=who.app_cred.id if who.app_cred else None,
                                           trust_id=trust_id,
                                           access_token_id=who.access_token.id if who.access_token else None)
            except exceptions.NotFound as exc:
                raise exceptions.Unauthorized(exc.message) from None
        if trust_id:
            with self.db.writer() as session:
                trusts.consume_use(session, trust_id)
        return issued

    def change_own_password(self, user_id: str, original: str, password: str) -> None:
        """A user's self-service password change (``POST /v3/users/{user_id}/password``), as Keystone does it.

        The original password is checked like a login (lockout, failures counted), the
        new one against the password rules, the history (``unique_last_password_count``)
        and ``minimum_password_age``; then every token of the user is revoked.

        :raises exceptions.NotFound: no such user.
        :raises exceptions.Unauthorized: wrong original password, locked out, or the user is disabled.
        :raises exceptions.BadRequest: the new password breaks a rule, repeats a recent one, or the current
            one is younger than ``minimum_password_age`` days.
        """
        with self.hashing():
            # Checked in a read transaction: a failure is recorded in a write of its own.
            with self.db.reader() as session:
                user = users.get_user(session, user_id)
                current = auth.check_password(self, session, user, original)
                if not user.enabled:
                    raise exceptions.Unauthorized(f"The user {user_id} is disabled.")
                users.check_password_age(self.conf, current)
            with self.db.writer() as session:
                users.set_password(session, self.conf, users.get_user(session, user_id), password,
                                   self_service=True)
        self.revoke(user_id=user_id)

    def revoke_token(self, token_id: str) -> None:
        payload = self.tokens.decode(token_id)
        self.tokens.validate(token_id)
        with self.db.writer() as session:
            revocations.add(session, self.region, audit_id=payload.audit_ids[0])
        token_cache.invalidate_process_caches()

    def revoke(self, **event: str | None) -> None:
        """Make every token matching ``event`` (user_id, project_id, domain_id, ...) fail validation.

        Identity refuses them at once (the revocation epoch); APIs in this
        process forget their cached validations now, APIs elsewhere within
        their ``[keystone_authtoken] token_cache_time``.
        """
        with self.db.writer() as session:
            revocations.add(session, self.region, **event)
        token_cache.invalidate_process_caches()

    # -- OS-OAUTH1 (deleting a delegation ends the tokens issued from it) ----------------------

    def delete_oauth_consumer(self, consumer_id: str) -> None:
        """Delete a consumer with its request and access tokens, and revoke every token issued from them.

        :raises exceptions.NotFound: no such consumer.
        """
        with self.db.writer() as session:
            for access_token_id in oauth1.delete_consumer(session, consumer_id):
                revocations.add(session, self.region, access_token_id=access_token_id)
        token_cache.invalidate_process_caches()

    def delete_oauth_access_token(self, user_id: str, access_token_id: str) -> None:
        """Delete one of a user's access tokens and revoke every token issued from it.

        :raises exceptions.NotFound: no such access token of this user.
        """
        with self.db.writer() as session:
            oauth1.delete_access_token(session, user_id, access_token_id)
            revocations.add(session, self.region, access_token_id=access_token_id)
        token_cache.invalidate_process_caches()

    # -- failed logins (their own transactions: the login itself fails) -----------------

    def record_failed_auth(self, user_id: str) -> None:
        if not self.conf.security_compliance.lockout_failure_attempts:
            return
        from nubis.common.db import types

        with self.db.writer() as session:
            user = session.get(User, user_id)
            if user is not None:
                user.failed_auth_count = (user.failed_auth_count or 0) + 1
                user.failed_auth_at = types.utcnow()

    def reset_failed_auth(self, user_id: str) -> None:
        with self.db.writer() as session:
            user = session.get(User, user_id)
            if user is not None:
                user.failed_auth_count = 0
                user.failed_auth_at = None
