"""A tiny schema that exercises the migration runner the way services use it."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types
from nubis.common.db.migration import MigrationRepo


class Base(orm.DeclarativeBase):
    pass


class Widget(Base):
    __tablename__ = "widgets"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True, default=types.new_uuid)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    extra: orm.Mapped[object] = orm.mapped_column(types.JSONText, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime, default=types.utcnow)


REPO = MigrationRepo("sample", "tests.unit.common.db.sample:migrations", Base.metadata)
