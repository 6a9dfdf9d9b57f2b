"""Column types and helpers shared by every service's models."""

from __future__ import annotations

import datetime
import uuid

import sqlalchemy as sa
import sqlalchemy.dialects.mysql
from sqlalchemy import types


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_hex_id() -> str:
    """Keystone-style ids: 32 hex characters, no dashes."""
    return uuid.uuid4().hex


def utcnow() -> datetime.datetime:
    """Naive UTC now; all timestamps are stored as naive UTC on every backend."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class JSONText(types.TypeDecorator[object]):
    """JSON stored as text, identical on SQLite, MariaDB and PostgreSQL."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: object, dialect: sa.Dialect) -> str | None:
        import json

        return None if value is None else json.dumps(value, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> object:
        import json

        return None if value is None else json.loads(value)


# Microsecond timestamps everywhere: MySQL/MariaDB's DATETIME keeps whole
# seconds unless asked, which would blur "before" and "after" within a second
# (e.g. a token issued just after a revocation event).
DateTime = sa.DateTime().with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql", "mariadb")
