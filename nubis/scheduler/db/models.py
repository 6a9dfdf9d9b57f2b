"""The scheduler's tables.

Placement counts resources; what it cannot express lives here: a host's NUMA
cells with their concrete CPUs and page pools, which of them are claimed (with
a generation, so two schedulers never hand out the same CPU), and the facts
filters read (availability zone, aggregate metadata, capabilities).
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types


class Base(orm.DeclarativeBase):
    pass


class ComputeHost(Base):
    __tablename__ = "compute_host"

    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    node: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    provider_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    availability_zone: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="nova")
    cell: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="cell1")
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    capabilities: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)  # e.g. cpu_info, hypervisor
    # What the compute API says about the host (its reports never touch these): the zone its aggregates
    # put it in, their merged metadata, and whether an admin disabled its compute service.
    aggregate_metadata: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    aggregate_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    disabled_by_admin: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    numa_topology: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)  # list of HostCell dicts
    numa_usage: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)  # cell id -> CellUsage dict
    generation: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class NumaClaim(Base):
    __tablename__ = "numa_claim"

    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), sa.ForeignKey("compute_host.host"), index=True)
    fit: orm.Mapped[Any] = orm.mapped_column(types.JSONText)
