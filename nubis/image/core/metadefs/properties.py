"""A namespace's properties: JSON-schema definitions of one metadata key each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.image.core.metadefs import records, writes
from nubis.image.db.metadef_models import MetadefNamespace, MetadefProperty


def _get(s: orm.Session, namespace: MetadefNamespace, name: str) -> MetadefProperty:
    return records.get_member(s, MetadefProperty, namespace, name, "Metadata definition property")


class Properties:
    """The properties part of the catalog; every call first finds the namespace as ``ctx`` sees it (404 if not)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def index(self, ctx: RequestContext, namespace: str) -> dict[str, dict[str, Any]]:
        """Property name -> its definition."""
        with self.db.reader() as s:
            ns = records.get_namespace(s, ctx, namespace)
            return {p.name: p.definition or {} for p in s.scalars(sa.select(MetadefProperty).where(
                MetadefProperty.namespace_id == ns.id).order_by(MetadefProperty.name))}

    def get(self, ctx: RequestContext, namespace: str, name: str, resource_type: str | None = None) -> dict[str, Any]:
        """Property ``name``; with ``resource_type``, ``name`` may carry the prefix of the namespace's association
        with that type (``hw_watchdog_action`` for ``watchdog_action``), as the resource's metadata names it.

        :raises NotFound: no such namespace visible to ``ctx``, or no such property in it.
        """
        with self.db.reader() as s:
            ns = records.get_namespace(s, ctx, namespace)
            if resource_type:
                prefix = next((a["prefix"] for a in records.associations(s, [ns.id])[ns.id]
                               if a["name"] == resource_type), None)
                if prefix and name.startswith(prefix):
                    row = _get(s, ns, name[len(prefix):])
                    return {**records.property_dict(row), "name": name}
            return records.property_dict(_get(s, ns, name))

    @retry_on_deadlock
    def create(self, ctx: RequestContext, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """:raises Conflict: the namespace has a property of that name."""
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = writes.add_property(s, ns, body["name"], body)
            writes.touch(ns)
            return records.property_dict(row)

    @retry_on_deadlock
    def update(self, ctx: RequestContext, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace property ``name``'s definition with ``body`` (which may rename it).

        :raises Conflict: the new name is taken in the namespace.
        """
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = _get(s, ns, name)
            row.name = body["name"]
            row.definition = {k: v for k, v in body.items() if k != "name"}
            row.updated_at = types.utcnow()
            writes.flush(s, f"A metadata definition property with name={body['name']} already exists in "
                            f"namespace={namespace}.")
            return records.property_dict(row)

    @retry_on_deadlock
    def delete(self, ctx: RequestContext, namespace: str, name: str) -> None:
        """:raises Forbidden: the namespace is protected."""
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = _get(s, ns, name)
            records.check_unprotected(ns, f"property {name}")
            s.delete(row)
