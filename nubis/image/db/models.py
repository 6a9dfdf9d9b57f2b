"""Image records, their custom properties, tags and members. The bytes live in a store."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types


class Base(orm.DeclarativeBase):
    pass


class Image(Base):
    __tablename__ = "image"
    __table_args__ = (sa.Index("ix_image_owner_visibility", "owner", "visibility"),
                      sa.Index("ix_image_created_at", "created_at"))

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="queued")
    visibility: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="shared")
    owner: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    disk_format: orm.Mapped[str | None] = orm.mapped_column(sa.String(20), nullable=True)
    container_format: orm.Mapped[str | None] = orm.mapped_column(sa.String(20), nullable=True)
    size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger, nullable=True)
    virtual_size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger, nullable=True)
    checksum: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), nullable=True)
    os_hash_algo: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    os_hash_value: orm.Mapped[str | None] = orm.mapped_column(sa.String(128), nullable=True)
    min_disk: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    min_ram: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    protected: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    os_hidden: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    location: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024), nullable=True)  # store key of the data
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class ImageProperty(Base):
    __tablename__ = "image_property"

    image_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), sa.ForeignKey("image.id", ondelete="CASCADE"),
                                                  primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.Text)


class ImageTag(Base):
    __tablename__ = "image_tag"

    image_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), sa.ForeignKey("image.id", ondelete="CASCADE"),
                                                  primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True, index=True)


class ImageMember(Base):
    __tablename__ = "image_member"

    image_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), sa.ForeignKey("image.id", ondelete="CASCADE"),
                                                  primary_key=True)
    member: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True, index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="pending")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
