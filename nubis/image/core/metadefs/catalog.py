"""The metadata definitions catalog as the handlers and ``nubis-manage`` see it: one object, its parts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.image.core.metadefs import writes
from nubis.image.core.metadefs.namespaces import Namespaces
from nubis.image.core.metadefs.objects import Objects
from nubis.image.core.metadefs.properties import Properties
from nubis.image.core.metadefs.resource_types import ResourceTypes
from nubis.image.core.metadefs.tags import Tags
from nubis.image.db.metadef_models import MetadefNamespace


@dataclasses.dataclass
class LoadResult:
    """What loading a catalog did, namespace names by outcome."""

    created: list[str] = dataclasses.field(default_factory=list)
    replaced: list[str] = dataclasses.field(default_factory=list)
    kept: list[str] = dataclasses.field(default_factory=list)


class MetadefCatalog:
    """Namespaces and what they define; each call owns its transaction."""

    def __init__(self, db: Database, max_limit: int) -> None:
        self.db = db
        self.namespaces = Namespaces(db, max_limit)
        self.objects = Objects(db)
        self.properties = Properties(db)
        self.tags = Tags(db)
        self.resource_types = ResourceTypes(db)

    @retry_on_deadlock
    def load(self, definitions: Iterable[Mapping[str, Any]], replace: bool = False) -> LoadResult:
        """Load namespace ``definitions`` (namespace bodies with their contents, already valid) in one
        transaction. A namespace that exists is kept as it is, or with ``replace`` rebuilt from its definition.
        """
        result = LoadResult()
        with self.db.writer() as s:
            for body in definitions:
                name = body["namespace"]
                row = s.scalar(sa.select(MetadefNamespace).where(MetadefNamespace.namespace == name))
                if row is not None and not replace:
                    result.kept.append(name)
                    continue
                if row is not None:
                    writes.remove_namespace(s, row)
                    result.replaced.append(name)
                else:
                    result.created.append(name)
                now = types.utcnow()
                row = MetadefNamespace(namespace=name, display_name=body.get("display_name"),
                                       description=body.get("description"),
                                       visibility=body.get("visibility") or "public",
                                       protected=bool(body.get("protected", True)), owner=body.get("owner") or "admin",
                                       created_at=now, updated_at=now)
                s.add(row)
                writes.flush(s, f"A metadata definition namespace with name={name} already exists.")
                writes.add_contents(s, row, body)
        return result
