"""Adding the definitions a namespace holds, shared by the create calls and by loading a catalog."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import types
from nubis.image.db.metadef_models import (
    MetadefNamespace,
    MetadefNamespaceResourceType,
    MetadefObject,
    MetadefProperty,
    MetadefResourceType,
    MetadefTag,
)


def flush(session: orm.Session, message: str) -> None:
    """Write pending rows now, so a name clash (also one raced by another request) is Glance's 409.

    :raises Conflict: the database refused a row as a duplicate.
    """
    try:
        session.flush()
    except sa_exc.IntegrityError:
        raise exceptions.Conflict(message) from None


def remove_namespace(session: orm.Session, namespace: MetadefNamespace) -> None:
    """Delete ``namespace`` and everything in it."""
    for model in (MetadefObject, MetadefProperty, MetadefTag, MetadefNamespaceResourceType):
        session.execute(sa.delete(model).where(model.namespace_id == namespace.id))
    session.delete(namespace)
    session.flush()


def touch(namespace: MetadefNamespace) -> None:
    namespace.updated_at = types.utcnow()


def add_object(session: orm.Session, namespace: MetadefNamespace, body: Mapping[str, Any]) -> MetadefObject:
    """A new object ``body`` (``name``, ``description``, ``required``, ``properties``) in ``namespace``."""
    now = types.utcnow()
    row = MetadefObject(namespace_id=namespace.id, name=body["name"], description=body.get("description"),
                        required=body.get("required"), properties=body.get("properties") or {},
                        created_at=now, updated_at=now)
    session.add(row)
    flush(session, f"A metadata definition object with name={body['name']} already exists in "
                   f"namespace={namespace.namespace}.")
    return row


def add_property(session: orm.Session, namespace: MetadefNamespace, name: str,
                 definition: Mapping[str, Any]) -> MetadefProperty:
    """A new property ``name`` defined by the JSON schema ``definition`` (its other keys) in ``namespace``."""
    now = types.utcnow()
    row = MetadefProperty(namespace_id=namespace.id, name=name,
                          definition={k: v for k, v in definition.items() if k != "name"},
                          created_at=now, updated_at=now)
    session.add(row)
    flush(session, f"A metadata definition property with name={name} already exists in "
                   f"namespace={namespace.namespace}.")
    return row


def add_tags(session: orm.Session, namespace: MetadefNamespace, names: Iterable[str]) -> list[MetadefTag]:
    """New tags ``names`` in ``namespace``; any already there, or given twice, is a 409."""
    now = types.utcnow()
    rows = []
    for name in names:
        row = MetadefTag(namespace_id=namespace.id, name=name, created_at=now, updated_at=now)
        session.add(row)
        rows.append(row)
        flush(session, f"A metadata tag with name={name} already exists in namespace={namespace.namespace}.")
    return rows


def resource_type(session: orm.Session, name: str) -> MetadefResourceType:
    """The resource type ``name``, made when a namespace is first associated with it (as Glance does)."""
    row = session.scalar(sa.select(MetadefResourceType).where(MetadefResourceType.name == name))
    if row is None:
        now = types.utcnow()
        row = MetadefResourceType(name=name, protected=False, created_at=now, updated_at=now)
        session.add(row)
        flush(session, f"A metadata definition resource type with name={name} already exists.")
    return row


def associate(session: orm.Session, namespace: MetadefNamespace,
              body: Mapping[str, Any]) -> tuple[MetadefNamespaceResourceType, MetadefResourceType]:
    """Associate ``namespace`` with the resource type ``body["name"]`` (``prefix``, ``properties_target``)."""
    kind = resource_type(session, body["name"])
    now = types.utcnow()
    assoc = MetadefNamespaceResourceType(namespace_id=namespace.id, resource_type_id=kind.id,
                                         prefix=body.get("prefix"), properties_target=body.get("properties_target"),
                                         created_at=now, updated_at=now)
    session.add(assoc)
    flush(session, f"The metadata definition resource type association of namespace={namespace.namespace} to "
                   f"resource type={kind.name} already exists.")
    return assoc, kind


def add_contents(session: orm.Session, namespace: MetadefNamespace, body: Mapping[str, Any]) -> None:
    """What a namespace body carries besides its own fields: associations, objects, properties, tags."""
    for assoc in body.get("resource_type_associations") or ():
        associate(session, namespace, assoc)
    for obj in body.get("objects") or ():
        add_object(session, namespace, obj)
    for name, definition in (body.get("properties") or {}).items():
        add_property(session, namespace, name, definition)
    add_tags(session, namespace, [t["name"] for t in body.get("tags") or ()])
