"""Namespaces: list, create (with their contents), show (with their contents), replace, delete."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import paging, types
from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.image.core.metadefs import records, writes
from nubis.image.db.metadef_models import (
    MetadefNamespace,
    MetadefNamespaceResourceType,
    MetadefObject,
    MetadefProperty,
    MetadefResourceType,
    MetadefTag,
)

SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "visibility", "owner")


@dataclasses.dataclass(frozen=True)
class NamespaceQuery:
    """What ``GET /v2/metadefs/namespaces`` asks for (validated by the handler)."""

    limit: int
    marker: str | None = None
    sort_key: str = "created_at"
    sort_dir: str = "desc"
    visibility: str | None = None
    resource_types: tuple[str, ...] = ()


@dataclasses.dataclass
class NamespacePage:
    namespaces: list[dict[str, Any]]  # each with its resource_type_associations
    next_marker: str | None


class Namespaces:
    """The namespaces part of the catalog."""

    def __init__(self, db: Database, max_limit: int) -> None:
        self.db = db
        self.max_limit = max_limit

    def target(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        """The namespace's owner and visibility, the target its policies are checked against.

        :raises NotFound: no namespace ``name`` visible to ``ctx``.
        """
        with self.db.reader() as s:
            row = records.get_namespace(s, ctx, name)
            return {"owner": row.owner, "visibility": row.visibility}

    def index(self, ctx: RequestContext, query: NamespaceQuery) -> NamespacePage:
        """One page of the namespaces ``ctx`` can see, filtered and sorted as ``query`` says.

        :raises NotFound: ``query.marker`` names no namespace of this listing (as Glance answers).
        """
        q = sa.select(MetadefNamespace).where(records.visible_clause(ctx))
        if query.visibility:
            q = q.where(MetadefNamespace.visibility == query.visibility)
        if query.resource_types:
            associated = sa.select(MetadefNamespaceResourceType.namespace_id).join(
                MetadefResourceType, MetadefResourceType.id == MetadefNamespaceResourceType.resource_type_id).where(
                MetadefResourceType.name.in_(query.resource_types))
            q = q.where(MetadefNamespace.id.in_(associated))
        descending = query.sort_dir == "desc"
        with self.db.reader() as s:
            page = paging.paginate(
                s, q, [paging.SortKey(getattr(MetadefNamespace, query.sort_key), descending)],
                paging.SortKey(MetadefNamespace.namespace, descending), query.limit, self.max_limit, query.marker,
                lambda m: exceptions.NotFound(f"Metadata definition namespace={m} was not found."))
            rows = page.rows
            assocs = records.associations(s, [r.id for r in rows])
            out = [{**records.namespace_dict(r), "resource_type_associations": assocs[r.id]} for r in rows]
            return NamespacePage(out, rows[-1].namespace if rows and page.more else None)

    @retry_on_deadlock
    def create(self, ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
        """A new namespace from a validated ``body``, with any contents it carries; owned by ``body["owner"]``
        or the caller's project.

        :raises Conflict: the name is taken, or two of its contents share a name.
        """
        with self.db.writer() as s:
            now = types.utcnow()
            row = MetadefNamespace(namespace=body["namespace"], display_name=body.get("display_name"),
                                   description=body.get("description"),
                                   visibility=body.get("visibility") or "private",
                                   protected=bool(body.get("protected", False)),
                                   owner=body.get("owner") or ctx.project_id, created_at=now, updated_at=now)
            s.add(row)
            writes.flush(s, f"A metadata definition namespace with name={body['namespace']} already exists.")
            writes.add_contents(s, row, body)
            return self._detail(s, row, None)

    def show(self, ctx: RequestContext, name: str, resource_type: str | None = None) -> dict[str, Any]:
        """The namespace with its associations, objects, properties and tags; with ``resource_type``, property
        names carry the prefix of that type's association.

        :raises NotFound: no namespace ``name`` visible to ``ctx``.
        """
        with self.db.reader() as s:
            return self._detail(s, records.get_namespace(s, ctx, name), resource_type)

    def _detail(self, s: Any, row: MetadefNamespace, resource_type: str | None) -> dict[str, Any]:
        assocs = records.associations(s, [row.id])[row.id]
        objects = [records.object_dict(o) for o in s.scalars(
            sa.select(MetadefObject).where(MetadefObject.namespace_id == row.id).order_by(MetadefObject.name))]
        properties = {p.name: p.definition or {} for p in s.scalars(
            sa.select(MetadefProperty).where(MetadefProperty.namespace_id == row.id).order_by(MetadefProperty.name))}
        tags = [{"name": t.name} for t in s.scalars(
            sa.select(MetadefTag).where(MetadefTag.namespace_id == row.id).order_by(MetadefTag.name))]
        prefix = next((a["prefix"] for a in assocs if a["name"] == resource_type), None) if resource_type else None
        if prefix:
            properties = {prefix + k: v for k, v in properties.items()}
            for obj in objects:
                obj["properties"] = {prefix + k: v for k, v in obj["properties"].items()}
                if obj["required"]:
                    obj["required"] = [prefix + n for n in obj["required"]]
        return {**records.namespace_dict(row), "resource_type_associations": assocs, "objects": objects,
                "properties": properties, "tags": tags}

    @retry_on_deadlock
    def update(self, ctx: RequestContext, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the namespace's own fields with a validated ``body`` (its name too); as Glance, a field left
        out goes back to its default (private, unprotected, owned by the caller's project).

        :raises NotFound: no namespace ``name`` visible to ``ctx``.
        :raises Conflict: the new name is taken.
        """
        with self.db.writer() as s:
            row = records.get_namespace(s, ctx, name)
            row.namespace = body["namespace"]
            row.display_name = body.get("display_name")
            row.description = body.get("description")
            row.visibility = body.get("visibility") or "private"
            row.protected = bool(body.get("protected", False))
            row.owner = body.get("owner") or ctx.project_id or row.owner
            writes.touch(row)
            writes.flush(s, f"A metadata definition namespace with name={body['namespace']} already exists.")
            return {**records.namespace_dict(row),
                    "resource_type_associations": records.associations(s, [row.id])[row.id]}

    @retry_on_deadlock
    def delete(self, ctx: RequestContext, name: str) -> None:
        """Delete the namespace and everything in it.

        :raises NotFound: no namespace ``name`` visible to ``ctx``.
        :raises Forbidden: it is protected.
        """
        with self.db.writer() as s:
            row = records.get_namespace(s, ctx, name)
            records.check_unprotected(row, "the namespace")
            writes.remove_namespace(s, row)

    @retry_on_deadlock
    def delete_contents(self, ctx: RequestContext, name: str, kind: str) -> None:
        """Delete all of a namespace's ``kind`` ("objects", "properties" or "tags").

        :raises NotFound: no namespace ``name`` visible to ``ctx``.
        :raises Forbidden: it is protected.
        """
        model: Any = {"objects": MetadefObject, "properties": MetadefProperty, "tags": MetadefTag}[kind]
        with self.db.writer() as s:
            row = records.get_namespace(s, ctx, name)
            records.check_unprotected(row, f"its {kind}")
            s.execute(sa.delete(model).where(model.namespace_id == row.id))
            writes.touch(row)
