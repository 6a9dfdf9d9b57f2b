"""Names unique within their domain: a clash is Keystone's 409, never a database error."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nubis.common import exceptions


def duplicate(kind: str, name: str) -> exceptions.Conflict:
    """Keystone's 409 for a second ``kind`` (project, domain, user, group, role) called ``name``."""
    return exceptions.Conflict(f"Conflict occurred attempting to store {kind} - Duplicate entry found with name {name}.")


def flush(session: orm.Session, kind: str, name: str) -> None:
    """Write pending changes now, so a unique-name clash (also one raced by another request) is a 409.

    :raises exceptions.Conflict: the database refused the row as a duplicate.
    """
    try:
        session.flush()
    except sa_exc.IntegrityError:
        raise duplicate(kind, name) from None
