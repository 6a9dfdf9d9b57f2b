"""Resource types (``OS::Glance::Image`` ...) and the namespaces associated with them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.image.core.metadefs import records, writes
from nubis.image.db.metadef_models import MetadefNamespaceResourceType, MetadefResourceType

# The resource types every cloud has, as Glance's catalog names them: listed before any namespace is
# associated with them (the first association stores one).
BUILTIN = ("OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate", "OS::Nova::Server")


class ResourceTypes:
    """The resource types part of the catalog."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def index(self) -> list[dict[str, Any]]:
        """Every resource type (they are not private to anyone): the built-in ones first, then those stored."""
        with self.db.reader() as s:
            stored = {r.name: {"name": r.name, "created_at": r.created_at, "updated_at": r.updated_at}
                      for r in s.scalars(sa.select(MetadefResourceType).order_by(MetadefResourceType.id))}
        builtin = [stored.pop(name, {"name": name}) for name in BUILTIN]
        return builtin + list(stored.values())

    def associations(self, ctx: RequestContext, namespace: str) -> list[dict[str, Any]]:
        """:raises NotFound: no namespace ``namespace`` visible to ``ctx``."""
        with self.db.reader() as s:
            ns = records.get_namespace(s, ctx, namespace)
            return records.associations(s, [ns.id])[ns.id]

    @retry_on_deadlock
    def associate(self, ctx: RequestContext, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Associate the namespace with resource type ``body["name"]`` (made if new).

        :raises Conflict: they are associated already.
        """
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            assoc, kind = writes.associate(s, ns, body)
            writes.touch(ns)
            return records.association_dict(assoc, kind)

    @retry_on_deadlock
    def dissociate(self, ctx: RequestContext, namespace: str, name: str) -> None:
        """:raises NotFound: the namespace is not associated with ``name``.
        :raises Forbidden: the namespace is protected."""
        with self.db.writer() as s:
            ns = records.get_namespace(s, ctx, namespace)
            assoc = s.scalar(sa.select(MetadefNamespaceResourceType).join(
                MetadefResourceType, MetadefResourceType.id == MetadefNamespaceResourceType.resource_type_id).where(
                MetadefNamespaceResourceType.namespace_id == ns.id, MetadefResourceType.name == name))
            if assoc is None:
                raise exceptions.NotFound(f"The metadata definition resource type association of "
                                          f"namespace={namespace} to resource type={name} was not found.")
            records.check_unprotected(ns, f"its association with {name}")
            s.delete(assoc)
