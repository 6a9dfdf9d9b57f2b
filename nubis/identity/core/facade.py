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
from nubis.identity.core import auth, revocations
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
    def issue_token(self, body: dict[str, Any]) -> tuple[str, provider.TokenBody]:
        request = body.get("auth") if isinstance(body, dict) else None
        if not isinstance(request, dict) or not isinstance(request.get("identity"), dict):
            raise exceptions.BadRequest("Expecting to find identity in auth.")
        methods = request["identity"].get("methods") or []
        # Admission before any work: a login that will hash a secret waits for a slot first.
        gate = self.hashing() if set(methods) & HASHED_METHODS else contextlib.nullcontext()
        with gate, self.db.reader() as session:
            who = auth.identify(self, session, request["identity"])
            scope, scope_id = auth.resolve_scope(session, who, request.get("scope"))
            try:
                return self.tokens.issue(session, who.user_id, tuple(who.methods), scope, scope_id,
                                         parent=who.parent, app_cred_id=who.app_cred.id if who.app_cred else None)
            except exceptions.NotFound as exc:
                raise exceptions.Unauthorized(exc.message) from None

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
