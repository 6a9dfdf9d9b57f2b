"""Revocation events, and the epoch that makes cached validations go stale everywhere.

Every revocation is a row (so every API node sees it) and bumps an epoch kept
in the cache region. A cached token validation records the epoch it was made
under and is used only while the epoch is unchanged, so after a revocation
every node re-validates against the DB on its next request; a validation
served from the cache runs no SQL at all, and reading the epoch and the
cached validation together costs one cache round trip. With memcached
the epoch is shared by every process; with the memory cache (the all-in-one,
one process) it is shared by every thread.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from dogpile.cache.api import NO_VALUE
from dogpile.cache.region import CacheRegion
from sqlalchemy import orm

from nubis.common.db import types
from nubis.identity.db.models import RevocationEvent
from nubis.identity.tokens.payload import Payload

EPOCH_KEY = "nubis-identity-revocation-epoch"


def _epoch_from_db(session: orm.Session) -> int:
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.max(RevocationEvent.id), 0))) or 0)


def epoch(region: CacheRegion, session_factory: object) -> int:
    return epoch_and(region, session_factory, [])[0]


def epoch_and(region: CacheRegion, session_factory: object, keys: list[str]) -> tuple[int, list[object]]:
    """The epoch and the values of ``keys`` in one cache round trip."""
    values = region.get_multi([EPOCH_KEY, *keys])
    value = values[0]
    if value is NO_VALUE:
        with session_factory() as session:  # type: ignore[operator]
            value = _epoch_from_db(session)
        region.set(EPOCH_KEY, value)
    return int(value), list(values[1:])


def add(session: orm.Session, region: CacheRegion, *, audit_id: str | None = None, user_id: str | None = None,
        project_id: str | None = None, domain_id: str | None = None, app_cred_id: str | None = None,
        trust_id: str | None = None, access_token_id: str | None = None) -> None:
    now = types.utcnow()
    session.add(RevocationEvent(audit_id=audit_id, user_id=user_id, project_id=project_id, domain_id=domain_id,
                                app_cred_id=app_cred_id, trust_id=trust_id, access_token_id=access_token_id,
                                issued_before=now, revoked_at=now))
    session.flush()
    region.set(EPOCH_KEY, _epoch_from_db(session))


def is_revoked(session: orm.Session, payload: Payload, project_domain_id: str | None) -> bool:
    issued = datetime.datetime.fromtimestamp(payload.issued_at, datetime.UTC).replace(tzinfo=None)
    clauses = [RevocationEvent.audit_id.in_(list(payload.audit_ids)),
               sa.and_(RevocationEvent.user_id == payload.user_id, RevocationEvent.project_id.is_(None),
                       RevocationEvent.issued_before >= issued)]
    if payload.scope == "project":
        clauses.append(sa.and_(RevocationEvent.project_id == payload.scope_id,
                               sa.or_(RevocationEvent.user_id.is_(None), RevocationEvent.user_id == payload.user_id),
                               RevocationEvent.issued_before >= issued))
    domains = [d for d in (project_domain_id, payload.scope_id if payload.scope == "domain" else None) if d]
    if domains:
        clauses.append(sa.and_(RevocationEvent.domain_id.in_(domains), RevocationEvent.issued_before >= issued))
    if payload.app_cred_id:
        clauses.append(RevocationEvent.app_cred_id == payload.app_cred_id)
    if payload.trust_id:
        clauses.append(RevocationEvent.trust_id == payload.trust_id)
    if payload.access_token_id:
        clauses.append(RevocationEvent.access_token_id == payload.access_token_id)
    return session.scalar(sa.select(RevocationEvent.id).where(sa.or_(*clauses)).limit(1)) is not None
