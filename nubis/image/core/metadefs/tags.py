"""A namespace's tags: names a resource can be tagged with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.image.core.metadefs import records, writes
from nubis.image.db.metadef_models import MetadefNamespace, MetadefTag


def _get(s: orm.Session, namespace: MetadefNamespace, name: str) -> MetadefTag:
    return records.get_member(s, MetadefTag, namespace, name, "Metadata tag")


class Tags:
    """The tags part of the catalog; every call first finds the namespace as ``ctx`` sees it (404 if not)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def index(self, ctx: RequestContext, namespace: str) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            ns = records.get_namespace(s, ctx, namespace)
            return [records.tag_dict(t) for t in s.scalars(sa.select(MetadefTag).where(
                MetadefTag.namespace_id == ns.id).order_by(MetadefTag.created_at.desc(), MetadefTag.id.desc()))]

    def get(self, ctx: RequestContext, namespace: str, name: str) -> dict[str, Any]:
        """:raises NotFound: no such namespace visible to ``ctx``, or no tag ``name`` in it."""
        with self.db.reader() as s:
            return records.tag_dict(_get(s, records.get_namespace(s, ctx, namespace), name))

    @retry_on_deadlock
    def create(self, ctx: RequestContext, namespace: str, name: str) -> dict[str, Any]:
        """:raises Conflict: the namespace has that tag."""
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = writes.add_tags(s, ns, [name])[0]
            writes.touch(ns)
            return records.tag_dict(row)

    @retry_on_deadlock
    def create_many(self, ctx: RequestContext, namespace: str, names: Sequence[str],
                    append: bool) -> list[dict[str, Any]]:
        """Tags ``names``: they replace the namespace's tags, or with ``append`` join them.

        :raises Conflict: a name is given twice, or (appending) the namespace has it already.
        """
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            if not append:
                s.execute(sa.delete(MetadefTag).where(MetadefTag.namespace_id == ns.id))
            rows = writes.add_tags(s, ns, names)
            writes.touch(ns)
            return [records.tag_dict(r) for r in rows]

    @retry_on_deadlock
    def update(self, ctx: RequestContext, namespace: str, name: str, new_name: str) -> dict[str, Any]:
        """Rename tag ``name``.

        :raises Conflict: the new name is taken in the namespace.
        """
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = _get(s, ns, name)
            row.name, row.updated_at = new_name, types.utcnow()
            writes.flush(s, f"A metadata tag with name={new_name} already exists in namespace={namespace}.")
            return records.tag_dict(row)

    @retry_on_deadlock
    def delete(self, ctx: RequestContext, namespace: str, name: str) -> None:
        """:raises Forbidden: the namespace is protected."""
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            row = _get(s, ns, name)
            records.check_unprotected(ns, f"tag {name}")
            s.delete(row)
