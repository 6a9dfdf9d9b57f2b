"""Resource providers: the tree, and the generation every change must compare-and-swap."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import dml, types
from nubis.placement.db.models import (
    Allocation,
    Inventory,
    ProviderAggregate,
    ProviderTrait,
    ResourceProvider,
)


def concurrent_update(what: str) -> exceptions.Conflict:
    return exceptions.Conflict(
        f"resource provider generation conflict: {what} was changed by another request; "
        "read it again and retry with the new generation.", error_type="placement.concurrent_update")


def get(session: orm.Session, uuid: str) -> ResourceProvider:
    rp = session.scalar(sa.select(ResourceProvider).where(ResourceProvider.uuid == uuid))
    if rp is None:
        raise exceptions.NotFound(f"No resource provider with uuid {uuid} found", error_type="placement.undefined_code")
    return rp


def uuids_by_id(session: orm.Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(sa.select(ResourceProvider.id, ResourceProvider.uuid).where(ResourceProvider.id.in_(ids)))
    return {i: u for i, u in rows}


def bump_generation(session: orm.Session, rp: ResourceProvider, expected: int | None = None) -> None:
    """Increment the generation if it still is ``expected`` (default: what we read); else 409."""
    expected = rp.generation if expected is None else expected
    result = session.execute(
        sa.update(ResourceProvider)
        .where(ResourceProvider.id == rp.id, ResourceProvider.generation == expected)
        .values(generation=expected + 1, updated_at=types.utcnow())
        .execution_options(synchronize_session=False))
    if dml.rowcount(result) != 1:
        raise concurrent_update(f"resource provider {rp.uuid}")
    session.expire(rp)


def create(session: orm.Session, name: str, uuid: str | None, parent_uuid: str | None) -> ResourceProvider:
    if session.scalar(sa.select(ResourceProvider.id).where(ResourceProvider.name == name)) is not None:
        raise exceptions.Conflict(f"Conflicting resource provider name: {name} already exists.",
                                  error_type="placement.duplicate_name")
    uuid = uuid or types.new_uuid()
    if session.scalar(sa.select(ResourceProvider.id).where(ResourceProvider.uuid == uuid)) is not None:
        raise exceptions.Conflict(f"Conflicting resource provider uuid: {uuid} already exists.")
    parent = _parent(session, parent_uuid)
    rp = ResourceProvider(uuid=uuid, name=name, generation=0,
                          parent_provider_id=parent.id if parent else None,
                          root_provider_id=parent.root_provider_id if parent else None)
    session.add(rp)
    session.flush()
    if parent is None:
        rp.root_provider_id = rp.id
    return rp


def _parent(session: orm.Session, parent_uuid: str | None) -> ResourceProvider | None:
    if parent_uuid is None:
        return None
    parent = session.scalar(sa.select(ResourceProvider).where(ResourceProvider.uuid == parent_uuid))
    if parent is None:
        raise exceptions.BadRequest(f"parent provider UUID {parent_uuid} does not exist.")
    return parent


def update(session: orm.Session, rp: ResourceProvider, name: str, parent_uuid: str | None,
           parent_given: bool) -> None:
    clash = session.scalar(sa.select(ResourceProvider.id).where(ResourceProvider.name == name,
                                                                ResourceProvider.id != rp.id))
    if clash is not None:
        raise exceptions.Conflict(f"Conflicting resource provider name: {name} already exists.",
                                  error_type="placement.duplicate_name")
    rp.name = name
    if parent_given:
        parent = _parent(session, parent_uuid)
        current = rp.parent_provider_id
        if parent is None and current is not None:
            raise exceptions.BadRequest("Un-parenting a provider is not allowed.")
        if parent is not None and parent.id != current:
            if current is not None:
                raise exceptions.BadRequest("Re-parenting a provider is not allowed.")
            if parent.root_provider_id == rp.id:
                raise exceptions.BadRequest("Creating a loop in the provider tree is not allowed.")
            rp.parent_provider_id = parent.id
            rp.root_provider_id = parent.root_provider_id
    bump_generation(session, rp)


def delete(session: orm.Session, rp: ResourceProvider) -> None:
    if session.scalar(sa.select(Allocation.id).where(Allocation.resource_provider_id == rp.id).limit(1)):
        raise exceptions.Conflict(f"Unable to delete resource provider {rp.uuid}: it has allocations.",
                                  error_type="placement.resource_provider.inuse")
    if session.scalar(sa.select(ResourceProvider.id).where(ResourceProvider.parent_provider_id == rp.id).limit(1)):
        raise exceptions.Conflict(f"Unable to delete parent resource provider {rp.uuid}: it has child providers.",
                                  error_type="placement.resource_provider.cannot_delete_parent")
    for model in (Inventory, ProviderTrait, ProviderAggregate):
        session.execute(sa.delete(model).where(model.resource_provider_id == rp.id))
    session.delete(rp)


def to_dict(rp: ResourceProvider, uuid_of: dict[int, str], base: str, with_tree: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"uuid": rp.uuid, "name": rp.name, "generation": rp.generation}
    if with_tree:
        body["parent_provider_uuid"] = uuid_of.get(rp.parent_provider_id) if rp.parent_provider_id else None
        body["root_provider_uuid"] = uuid_of.get(rp.root_provider_id or rp.id, rp.uuid)
    link = f"{base}/resource_providers/{rp.uuid}"
    body["links"] = [{"rel": "self", "href": link}] + [
        {"rel": rel, "href": f"{link}/{rel}"} for rel in
        ("inventories", "usages", "aggregates", "traits", "allocations")]
    return body
