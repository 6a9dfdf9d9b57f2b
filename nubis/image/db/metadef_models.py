"""The metadata definitions catalog (Glance's metadefs): namespaces and what they define.

A namespace groups definitions for one purpose (a hypervisor's options, a watchdog's
actions). It holds objects (named groups of properties), properties (JSON-schema
definitions), tags, and associations to the resource types (``OS::Glance::Image``,
``OS::Nova::Flavor`` ...) whose metadata it describes. Everything in a namespace goes
with it when it is deleted.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types
from nubis.image.db.models import Base

NAME_LENGTH = 80


def _namespace_fk() -> Any:
    return sa.ForeignKey("metadef_namespace.id", ondelete="CASCADE")


class MetadefNamespace(Base):
    __tablename__ = "metadef_namespace"
    __table_args__ = (sa.UniqueConstraint("namespace", name="uq_metadef_namespace_namespace"),
                      sa.Index("ix_metadef_namespace_owner", "owner"))

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    namespace: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LENGTH))
    display_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(NAME_LENGTH), nullable=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    visibility: orm.Mapped[str] = orm.mapped_column(sa.String(32), default="private")
    protected: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    owner: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class MetadefResourceType(Base):
    __tablename__ = "metadef_resource_type"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_metadef_resource_type_name"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LENGTH))
    protected: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class MetadefNamespaceResourceType(Base):
    """A namespace's definitions apply to a resource type, their names prefixed with ``prefix``."""

    __tablename__ = "metadef_namespace_resource_type"

    namespace_id: orm.Mapped[int] = orm.mapped_column(sa.Integer, _namespace_fk(), primary_key=True)
    resource_type_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("metadef_resource_type.id"), primary_key=True, index=True)
    prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(NAME_LENGTH), nullable=True)
    properties_target: orm.Mapped[str | None] = orm.mapped_column(sa.String(NAME_LENGTH), nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class MetadefObject(Base):
    __tablename__ = "metadef_object"
    __table_args__ = (sa.UniqueConstraint("namespace_id", "name", name="uq_metadef_object_namespace_id_name"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id: orm.Mapped[int] = orm.mapped_column(sa.Integer, _namespace_fk())
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LENGTH))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    required: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)  # list of property names
    properties: orm.Mapped[Any] = orm.mapped_column(types.JSONText)  # name -> property definition
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class MetadefProperty(Base):
    __tablename__ = "metadef_property"
    __table_args__ = (sa.UniqueConstraint("namespace_id", "name", name="uq_metadef_property_namespace_id_name"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id: orm.Mapped[int] = orm.mapped_column(sa.Integer, _namespace_fk())
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LENGTH))
    definition: orm.Mapped[Any] = orm.mapped_column(types.JSONText)  # the JSON schema, without its name
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class MetadefTag(Base):
    __tablename__ = "metadef_tag"
    __table_args__ = (sa.UniqueConstraint("namespace_id", "name", name="uq_metadef_tag_namespace_id_name"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id: orm.Mapped[int] = orm.mapped_column(sa.Integer, _namespace_fk())
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LENGTH))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
