"""Rows of the catalog as the core hands them out, and who may see a namespace."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.image.db.metadef_models import (
    MetadefNamespace,
    MetadefNamespaceResourceType,
    MetadefObject,
    MetadefProperty,
    MetadefResourceType,
    MetadefTag,
)

VISIBILITIES = ("public", "private")


def visible_clause(ctx: RequestContext) -> sa.ColumnElement[bool]:
    """Namespaces ``ctx`` may see: every one for a cloud admin, else the public ones and its project's own."""
    if ctx.is_admin:
        return sa.true()
    return sa.or_(MetadefNamespace.visibility == "public", MetadefNamespace.owner == ctx.project_id)


def get_namespace(session: orm.Session, ctx: RequestContext, name: str) -> MetadefNamespace:
    """The namespace ``name`` if ``ctx`` may see it.

    :raises NotFound: no such namespace, or a private one of another project.
    """
    row = session.scalar(sa.select(MetadefNamespace).where(MetadefNamespace.namespace == name, visible_clause(ctx)))
    if row is None:
        raise exceptions.NotFound(f"Metadata definition namespace={name} was not found.")
    return row


_Member = TypeVar("_Member", MetadefObject, MetadefProperty, MetadefTag)


def get_member(session: orm.Session, model: type[_Member], namespace: MetadefNamespace, name: str,
               kind: str) -> _Member:
    """The object, property or tag ``name`` of ``namespace`` (a row of ``model``).

    :raises NotFound: none by that name there; ``kind`` names it in the message as Glance does
        ("Metadata definition object=x", "Metadata tag=x").
    """
    row = session.scalar(sa.select(model).where(model.namespace_id == namespace.id, model.name == name))
    if row is None:
        raise exceptions.NotFound(f"{kind}={name} was not found in namespace={namespace.namespace}.")
    return row


def check_unprotected(namespace: MetadefNamespace, what: str) -> None:
    """Nothing is deleted from a protected namespace (403, as Glance answers).

    :raises Forbidden: the namespace is protected.
    """
    if namespace.protected:
        raise exceptions.Forbidden(f"Metadata definition namespace {namespace.namespace} is protected: {what} "
                                   "cannot be deleted. Set protected to false first.")


def namespace_dict(row: MetadefNamespace) -> dict[str, Any]:
    return {"namespace": row.namespace, "display_name": row.display_name, "description": row.description,
            "visibility": row.visibility, "protected": row.protected, "owner": row.owner,
            "created_at": row.created_at, "updated_at": row.updated_at}


def object_dict(row: MetadefObject) -> dict[str, Any]:
    return {"name": row.name, "description": row.description, "required": row.required,
            "properties": row.properties or {}, "created_at": row.created_at, "updated_at": row.updated_at}


def property_dict(row: MetadefProperty) -> dict[str, Any]:
    return {**(row.definition or {}), "name": row.name}


def tag_dict(row: MetadefTag) -> dict[str, Any]:
    return {"name": row.name, "created_at": row.created_at, "updated_at": row.updated_at}


def association_dict(assoc: MetadefNamespaceResourceType, resource_type: MetadefResourceType) -> dict[str, Any]:
    return {"name": resource_type.name, "prefix": assoc.prefix, "properties_target": assoc.properties_target,
            "created_at": assoc.created_at, "updated_at": assoc.updated_at}


def associations(session: orm.Session, namespace_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each namespace's resource type associations, in one query."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in namespace_ids}
    if namespace_ids:
        rows = session.execute(sa.select(MetadefNamespaceResourceType, MetadefResourceType).join(
            MetadefResourceType, MetadefResourceType.id == MetadefNamespaceResourceType.resource_type_id).where(
            MetadefNamespaceResourceType.namespace_id.in_(namespace_ids)).order_by(MetadefResourceType.name))
        for assoc, resource_type in rows:
            out[assoc.namespace_id].append(association_dict(assoc, resource_type))
    return out
