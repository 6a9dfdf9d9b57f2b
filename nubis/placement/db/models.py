"""Placement's tables: providers and their inventories, traits, aggregates; consumers and allocations.

Resource classes and traits are stored by name: the standard ones come from
os-resource-classes / os-traits (code, not rows), custom ones have rows so
they can be listed and must exist before use.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types


class Base(orm.DeclarativeBase):
    pass


class ResourceProvider(Base):
    __tablename__ = "resource_provider"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(200), unique=True)
    # Compare-and-swap counter: every change to the provider or what it holds bumps it.
    generation: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    root_provider_id: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True, index=True)
    parent_provider_id: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True, index=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class Inventory(Base):
    __tablename__ = "inventory"
    __table_args__ = (sa.UniqueConstraint("resource_provider_id", "resource_class", name="uniq_inventory_rp_rc"),
                      sa.Index("ix_inventory_rc_provider", "resource_class", "resource_provider_id"))

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    resource_provider_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("resource_provider.id", ondelete="CASCADE"))
    resource_class: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    total: orm.Mapped[int] = orm.mapped_column(sa.BigInteger)
    reserved: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, default=0)
    min_unit: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, default=1)
    max_unit: orm.Mapped[int] = orm.mapped_column(sa.BigInteger)
    step_size: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, default=1)
    allocation_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)


class CustomResourceClass(Base):
    __tablename__ = "custom_resource_class"

    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class CustomTrait(Base):
    __tablename__ = "custom_trait"

    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class ProviderTrait(Base):
    __tablename__ = "provider_trait"

    resource_provider_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("resource_provider.id", ondelete="CASCADE"), primary_key=True)
    trait: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True, index=True)


class ProviderAggregate(Base):
    __tablename__ = "provider_aggregate"

    resource_provider_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("resource_provider.id", ondelete="CASCADE"), primary_key=True)
    aggregate_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True, index=True)


class Consumer(Base):
    __tablename__ = "consumer"

    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    consumer_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    generation: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)


class Allocation(Base):
    __tablename__ = "allocation"
    __table_args__ = (sa.Index("ix_allocation_provider_rc", "resource_provider_id", "resource_class"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    resource_provider_id: orm.Mapped[int] = orm.mapped_column(sa.Integer, sa.ForeignKey("resource_provider.id"))
    consumer_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    resource_class: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    used: orm.Mapped[int] = orm.mapped_column(sa.BigInteger)
