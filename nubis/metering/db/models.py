"""The ledger: what each metered resource is now, the hour-aligned usage already recorded, the events seen,
and the tariffs set through the API."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types


class Base(orm.DeclarativeBase):
    pass


class Resource(Base):
    """One metered resource (a server, an image, a floating IP) as it has been since ``since``.

    Usage before ``since`` is already in ``usage_record``; the span from ``since`` to the next change (or the
    end of the hour) is still open. ``deleted_at`` set: the resource is gone and fully recorded.
    """

    __tablename__ = "resource"
    __table_args__ = (sa.Index("ix_resource_open", "deleted_at", "resource_type"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    resource_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), index=True)
    state: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    flavor: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    disk_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    size_bytes: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, default=0)
    since: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime)
    deleted_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)


class UsageRecord(Base):
    """Usage of one meter by one resource within one hour: ``quantity`` in unit-seconds (an integer, so sums are
    exact; the meter's divisor turns it into unit-hours)."""

    __tablename__ = "usage_record"
    __table_args__ = (sa.UniqueConstraint("resource_id", "meter", "flavor", "hour", name="uniq_usage_record"),
                      sa.Index("ix_usage_record_project_hour", "project_id", "hour"),
                      sa.Index("ix_usage_record_hour", "hour"))

    id: orm.Mapped[int] = orm.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                            autoincrement=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    resource_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    resource_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    meter: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    flavor: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    hour: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime)
    quantity: orm.Mapped[int] = orm.mapped_column(sa.BigInteger)


class ProcessedEvent(Base):
    """A notification already applied: a redelivered one (same message id) is skipped."""

    __tablename__ = "processed_event"

    message_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    event_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    resource_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    occurred_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, index=True)


class Tariff(Base):
    """A price per unit-hour of ``meter``, for one flavor and/or one project when those are set.

    The price is kept as its decimal text, so it is exact on every backend.
    """

    __tablename__ = "tariff"
    __table_args__ = (sa.UniqueConstraint("meter", "flavor", "project_id", name="uniq_tariff"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True, default=types.new_uuid)
    meter: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    flavor: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="")
    price: orm.Mapped[str] = orm.mapped_column(sa.String(40))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
