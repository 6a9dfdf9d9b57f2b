"""Inventories of a provider, and how much of each is used."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.placement.core import names
from nubis.placement.db.models import Allocation, Inventory, ResourceProvider

FIELDS = ("total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio")
MAX_INT = 2**31 - 1
# The largest allocation ratio a 32-bit float column holds (Placement keeps the same bound).
MAX_FLOAT = 3.40282e38


@dataclasses.dataclass(frozen=True)
class InventorySpec:
    total: int
    reserved: int = 0
    min_unit: int = 1
    max_unit: int = MAX_INT
    step_size: int = 1
    allocation_ratio: float = 1.0

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> InventorySpec:
        spec = cls(**{k: body[k] for k in FIELDS if k in body})
        if spec.reserved > spec.total:
            raise exceptions.BadRequest(f"Unable to update inventory: reserved ({spec.reserved}) is greater than "
                                        f"total ({spec.total}).", error_type="placement.undefined_code")
        if spec.min_unit > spec.max_unit:
            raise exceptions.BadRequest(f"min_unit ({spec.min_unit}) is greater than max_unit ({spec.max_unit}).")
        return spec


def capacity(inv: Inventory | InventorySpec) -> int:
    return int((inv.total - inv.reserved) * inv.allocation_ratio)


def to_dict(inv: Inventory) -> dict[str, Any]:
    return {k: getattr(inv, k) for k in FIELDS}


def of_provider(session: orm.Session, rp: ResourceProvider) -> dict[str, Inventory]:
    rows = session.scalars(sa.select(Inventory).where(Inventory.resource_provider_id == rp.id))
    return {inv.resource_class: inv for inv in rows}


def usages(session: orm.Session, provider_ids: list[int] | None = None) -> dict[tuple[int, str], int]:
    """(provider id, resource class) -> amount used."""
    q = sa.select(Allocation.resource_provider_id, Allocation.resource_class, sa.func.sum(Allocation.used)).group_by(
        Allocation.resource_provider_id, Allocation.resource_class)
    if provider_ids is not None:
        q = q.where(Allocation.resource_provider_id.in_(provider_ids))
    return {(rp_id, rc): int(used) for rp_id, rc, used in session.connection().execute(q)}


def replace_all(session: orm.Session, rp: ResourceProvider, specs: dict[str, InventorySpec]) -> None:
    """Make the provider's inventory exactly ``specs`` (the caller bumps the generation)."""
    names.require_resource_classes(session, specs)
    current = of_provider(session, rp)
    used = {rc: n for (_, rc), n in usages(session, [rp.id]).items()}
    for rc in set(current) - set(specs):
        if used.get(rc):
            raise exceptions.Conflict(
                f"Inventory for {rc} on resource provider {rp.uuid} in use: {used[rc]} allocated.",
                error_type="placement.inventory.inuse")
        session.delete(current[rc])
    for rc, spec in specs.items():
        if used.get(rc, 0) > capacity(spec):
            raise exceptions.Conflict(
                f"Unable to update inventory for resource provider {rp.uuid}: the new capacity of {rc} "
                f"({capacity(spec)}) would be less than what is allocated ({used[rc]}).",
                error_type="placement.inventory.inuse")
        inv = current.get(rc) or Inventory(resource_provider_id=rp.id, resource_class=rc)
        for field in FIELDS:
            setattr(inv, field, getattr(spec, field))
        session.add(inv)
