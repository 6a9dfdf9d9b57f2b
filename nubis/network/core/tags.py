"""Tags on networks, subnets, ports, routers, floating IPs, security groups and subnet pools."""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa

from nubis.network.core import common, errors
from nubis.network.core.common import Caller, NetworkCoreHandle
from nubis.network.db import models

MAX_TAG_LENGTH = 60  # neutron-lib's tag limit, on every taggable resource


def _valid(tag: Any) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LENGTH or "," in tag or "/" in tag:
        raise errors.invalid(f"'{tag}' is not a valid tag: 1..{MAX_TAG_LENGTH} characters, no ',' or '/'.")
    return tag


class Tags:
    def __init__(self, core: NetworkCoreHandle) -> None:
        self.core = core

    def _resource(self, s: Any, caller: Caller, collection: str, ident: str, change: bool) -> Any:
        resources = self.core.collection(collection)
        # Changing tags is updating the resource: the handler checked update_<member> on it.
        return resources.owned_row(s, caller, ident) if change else resources.row(s, caller, ident)

    def list(self, caller: Caller, collection: str, ident: str) -> list[str]:
        with self.core.db.reader() as s:
            self._resource(s, caller, collection, ident, change=False)
            return sorted(s.scalars(sa.select(models.Tag.tag).where(models.Tag.resource_id == ident)))

    def has(self, caller: Caller, collection: str, ident: str, tag: str) -> bool:
        return tag in self.list(caller, collection, ident)

    def replace(self, caller: Caller, collection: str, ident: str, body: Any) -> builtins.list[str]:
        if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
            raise errors.bad_request("HTTPBadRequest", "Send {\"tags\": [...]} to replace a resource's tags.")
        tags = sorted({_valid(t) for t in body["tags"]})
        with self.core.db.writer() as s:
            row = self._resource(s, caller, collection, ident, change=True)
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == ident))
            for tag in tags:
                s.add(models.Tag(resource_id=ident, tag=tag, resource_type=collection))
            common.touch(row)
        return tags

    def add(self, caller: Caller, collection: str, ident: str, tag: str) -> None:
        tag = _valid(tag)
        with self.core.db.writer() as s:
            row = self._resource(s, caller, collection, ident, change=True)
            if s.get(models.Tag, (ident, tag)) is None:
                s.add(models.Tag(resource_id=ident, tag=tag, resource_type=collection))
                common.touch(row)

    def remove(self, caller: Caller, collection: str, ident: str, tag: str | None) -> None:
        with self.core.db.writer() as s:
            row = self._resource(s, caller, collection, ident, change=True)
            q = sa.delete(models.Tag).where(models.Tag.resource_id == ident)
            if tag is not None:
                if s.get(models.Tag, (ident, tag)) is None:
                    raise errors.exceptions.NotFound(f"Tag {tag} could not be found for {collection[:-1]} {ident}.",
                                                     "TagNotFound")
                q = q.where(models.Tag.tag == tag)
            s.execute(q)
            common.touch(row)
