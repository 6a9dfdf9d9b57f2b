"""Image tasks (Glance's ``/v2/tasks`` and the import tasks of ``/v2/images/{id}/tasks``) and the image cache
of each API node (``/v2/cache``)."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types
from nubis.image.db.models import Base


class Task(Base):
    """One task: a legacy ``import`` (``POST /v2/tasks``) or an interoperable import (``api_image_import``).

    ``runner`` names the process running it (``host:pid``) so that a restart can tell the tasks it
    interrupted; ``expires_at`` is set when the task ends (success or failure).
    """

    __tablename__ = "image_task"
    __table_args__ = (sa.Index("ix_image_task_owner_created_at", "owner", "created_at"),
                      sa.Index("ix_image_task_status", "status"))

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    type: orm.Mapped[str] = orm.mapped_column(sa.String(30))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="pending")
    owner: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    image_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True, index=True)
    request_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    input: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    result: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    message: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    runner: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class CachedImage(Base):
    """An image queued for, or held in, the local cache of one API node (``node``: its ``host``)."""

    __tablename__ = "image_cache"

    node: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    image_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), sa.ForeignKey("image.id", ondelete="CASCADE"),
                                                  primary_key=True, index=True)
    state: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="queued")  # queued | cached
    size: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, default=0)
    hits: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    last_accessed: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    last_modified: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
