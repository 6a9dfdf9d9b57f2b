"""OS-TRUST: delegation of some of a trustor's roles on a project to a trustee (Keystone's trusts).

A trust-scoped token acts on the trust's project with the trust's roles, as the
trustee, or as the trustor when the trust says ``impersonation``. It stays valid
only while the trust exists, has not expired, and the trustor still holds every
delegated role there.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import dml, types
from nubis.identity.core import resources, roles, users
from nubis.identity.db.models import Role, Trust, TrustRole


@dataclasses.dataclass(frozen=True)
class NewTrust:
    """A validated ``POST /v3/OS-TRUST/trusts`` body."""

    trustor_user_id: str
    trustee_user_id: str
    project_id: str | None
    impersonation: bool
    role_refs: list[dict[str, str]]
    expires_at: datetime.datetime | None
    remaining_uses: int | None
    allow_redelegation: bool = False


def _iso(value: datetime.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None


def role_ids(session: orm.Session, trust: Trust) -> list[str]:
    return list(session.scalars(sa.select(TrustRole.role_id).where(TrustRole.trust_id == trust.id)))


def to_dict(session: orm.Session, trust: Trust) -> dict[str, Any]:
    delegated = [roles.role_to_dict(r) for r in session.scalars(
        sa.select(Role).where(Role.id.in_(role_ids(session, trust))).order_by(Role.name))]
    return {
        "id": trust.id, "trustor_user_id": trust.trustor_user_id, "trustee_user_id": trust.trustee_user_id,
        "project_id": trust.project_id, "impersonation": trust.impersonation,
        "allow_redelegation": trust.allow_redelegation, "redelegation_count": 0, "redelegated_trust_id": None,
        "expires_at": _iso(trust.expires_at), "remaining_uses": trust.remaining_uses, "roles": delegated,
        "roles_links": {"self": f"/v3/OS-TRUST/trusts/{trust.id}/roles", "previous": None, "next": None},
        "links": {"self": f"/v3/OS-TRUST/trusts/{trust.id}"},
    }


def get_trust(session: orm.Session, trust_id: str) -> Trust:
    """A live trust: an expired one is as gone as a deleted one (Keystone answers 404 for both).

    :raises exceptions.NotFound: no such trust, or it expired.
    """
    trust = session.get(Trust, trust_id)
    if trust is None or (trust.expires_at is not None and trust.expires_at <= types.utcnow()):
        raise exceptions.NotFound(f"Could not find trust: {trust_id}.")
    return trust


def list_trusts(session: orm.Session, trustor_user_id: str | None, trustee_user_id: str | None) -> list[Trust]:
    q = sa.select(Trust)
    if trustor_user_id:
        q = q.where(Trust.trustor_user_id == trustor_user_id)
    if trustee_user_id:
        q = q.where(Trust.trustee_user_id == trustee_user_id)
    now = types.utcnow()
    return [t for t in session.scalars(q.order_by(Trust.id)) if t.expires_at is None or t.expires_at > now]


def create_trust(session: orm.Session, new: NewTrust) -> Trust:
    """Store a trust after Keystone's checks.

    :raises exceptions.NotFound: the trustee, project or a named role does not exist.
    :raises exceptions.BadRequest: expiry in the past, no roles for a project, or roles without a project.
    :raises exceptions.Forbidden: the trustor does not hold a delegated role on the project.
    """
    users.get_user(session, new.trustee_user_id)
    if new.expires_at is not None and new.expires_at <= types.utcnow():
        raise exceptions.BadRequest("The expiration time of a trust must be in the future.")
    wanted: list[str] = []
    for ref in new.role_refs:
        role = session.get(Role, ref["id"]) if ref.get("id") else roles.find_role(session, ref.get("name", ""), None)
        if role is None:
            raise exceptions.NotFound(f"Could not find role: {ref.get('id') or ref.get('name')}.")
        wanted.append(role.id)
    if new.project_id:
        resources.get_project(session, new.project_id)
        held = roles.effective_role_ids(session, new.trustor_user_id, "project", new.project_id)
        if not set(wanted) <= held:
            raise exceptions.Forbidden("Some of the requested roles are not assigned to the trustor on the project.")
    elif wanted:
        raise exceptions.BadRequest("A trust without a project cannot delegate roles.")
    trust = Trust(id=types.new_hex_id(), trustor_user_id=new.trustor_user_id, trustee_user_id=new.trustee_user_id,
                  project_id=new.project_id, impersonation=new.impersonation,
                  allow_redelegation=new.allow_redelegation, expires_at=new.expires_at,
                  remaining_uses=new.remaining_uses, extra={})
    session.add(trust)
    session.flush()
    for role_id in dict.fromkeys(wanted):
        session.add(TrustRole(trust_id=trust.id, role_id=role_id))
    session.flush()
    return trust


def token_user(trust: Trust) -> str:
    """Whom a token scoped to ``trust`` acts as."""
    return trust.trustor_user_id if trust.impersonation else trust.trustee_user_id


def check_scope(session: orm.Session, trust_id: str, authenticated_user_id: str) -> Trust:
    """The trust a caller asks to scope a token to, once they may.

    :raises exceptions.Unauthorized: no such (live) trust, or the caller is not its trustee.
    :raises exceptions.Forbidden: its remaining uses are spent.
    """
    try:
        trust = get_trust(session, trust_id)
    except exceptions.NotFound:
        raise exceptions.Unauthorized(f"Could not find trust: {trust_id}.") from None
    if trust.trustee_user_id != authenticated_user_id:
        raise exceptions.Forbidden("The user is not the trustee of the trust.")
    if trust.remaining_uses is not None and trust.remaining_uses <= 0:
        raise exceptions.Forbidden(f"No remaining uses for trust: {trust_id}.")
    return trust


def consume_use(session: orm.Session, trust_id: str) -> None:
    """Count one token issued under the trust (only trusts with ``remaining_uses`` keep count).

    One conditional UPDATE, so two logins racing for the last use cannot both have it.

    :raises exceptions.Forbidden: the uses ran out meanwhile.
    """
    trust = session.get(Trust, trust_id)
    if trust is None or trust.remaining_uses is None:
        return
    done = session.execute(sa.update(Trust).where(Trust.id == trust_id, Trust.remaining_uses > 0)
                           .values(remaining_uses=Trust.remaining_uses - 1))
    if not dml.rowcount(done):
        raise exceptions.Forbidden(f"No remaining uses for trust: {trust_id}.")


def token_role_ids(session: orm.Session, trust: Trust) -> set[str]:
    """The roles a trust-scoped token carries: the delegated ones, while the trustor still holds them all.

    :raises exceptions.Unauthorized: the trustor lost a delegated role on the project.
    """
    delegated = set(role_ids(session, trust))
    held = roles.effective_role_ids(session, trust.trustor_user_id, "project", trust.project_id)
    if not delegated <= held:
        raise exceptions.Unauthorized("The trustor no longer holds the delegated roles.")
    return delegated
