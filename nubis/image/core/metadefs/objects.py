"""A namespace's objects: named groups of property definitions."""

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
from nubis.image.db.metadef_models import MetadefNamespace, MetadefObject


def _get(s: orm.Session, namespace: MetadefNamespace, name: str) -> MetadefObject:
    return records.get_member(s, MetadefObject, namespace, name, "Metadata definition object")


class Objects:
    """The objects part of the catalog; every call first finds the namespace as ``ctx`` sees it (404 if not)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def index(self, ctx: RequestContext, namespace: str) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            ns = records.get_namespace(s, ctx, namespace)
            return [records.object_dict(o) for o in s.scalars(sa.select(MetadefObject).where(
                MetadefObject.namespace_id == ns.id).order_by(MetadefObject.created_at.desc(),
                                                              MetadefObject.id.desc()))]

    def get(self, ctx: RequestContext, namespace: str, name: str) -> dict[str, Any]:
        """:raises NotFound: no such namespace visible to ``ctx``, or no object ``name`` in it."""
        with self.db.reader() as s:
            return records.object_dict(_get(s, records.get_namespace(s, ctx, namespace), name))

    @retry_on_deadlock
    def create(self, ctx: RequestContext, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """:raises Conflict: the namespace has an object of that name."""
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = writes.add_object(s, ns, body)
            writes.touch(ns)
            return records.object_dict(row)

    @retry_on_deadlock
    def update(self, ctx: RequestContext, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace object ``name`` with ``body`` (which may rename it).

        :raises Conflict: the new name is taken in the namespace.
        """
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = _get(s, ns, name)
            row.name, row.description = body["name"], body.get("description")
            row.required, row.properties = body.get("required"), body.get("properties") or {}
            row.updated_at = types.utcnow()
            writes.flush(s, f"A metadata definition object with name={body['name']} already exists in "
                            f"namespace={namespace}.")
            return records.object_dict(row)

    @retry_on_deadlock
    def delete(self, ctx: RequestContext, namespace: str, name: str) -> None:
        """:raises Forbidden: the namespace is protected."""
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = _get(s, ns, name)
            records.check_unprotected(ns, f"object {name}")
            s.delete(row)
