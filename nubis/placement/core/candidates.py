"""GET /allocation_candidates: which providers can satisfy a request, computed in SQL per resource class.

Each request group (the unnamed one and ``resourcesN`` ones) is satisfied by a
single provider; groups of one request must come from the same provider tree
(and from different providers with ``group_policy=isolate``).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.placement.core import inventories, names
from nubis.placement.db.models import (
    Allocation,
    Inventory,
    ProviderAggregate,
    ProviderTrait,
    ResourceProvider,
)

GROUP_PARAM = re.compile(r"^(resources|required|member_of|in_tree)([1-9][0-9]*|_[A-Za-z0-9_-]{1,64})?$")
# Above this many providers, reading everything beats an IN list of ids.
IN_LIST_LIMIT = 1000


@dataclasses.dataclass
class RequestGroup:
    suffix: str
    resources: dict[str, int] = dataclasses.field(default_factory=dict)
    required: list[set[str]] = dataclasses.field(default_factory=list)  # each set: any-of
    forbidden: set[str] = dataclasses.field(default_factory=set)
    member_of: list[set[str]] = dataclasses.field(default_factory=list)  # each set: any-of
    not_member_of: set[str] = dataclasses.field(default_factory=set)
    in_tree: str | None = None


@dataclasses.dataclass
class CandidateRequest:
    groups: list[RequestGroup]
    limit: int | None = None
    group_policy: str | None = None

    def all_traits(self) -> set[str]:
        found = set()
        for g in self.groups:
            found |= g.forbidden
            for any_of in g.required:
                found |= any_of
        return found


def parse_resources(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.split(","):
        rc, sep, amount = part.partition(":")
        if not sep or not rc or not amount.isdigit() or not 1 <= int(amount) <= inventories.MAX_INT:
            raise exceptions.BadRequest(
                f"Badly formed resources parameter. Expected resources query string parameter in form: "
                f"?resources=VCPU:2,MEMORY_MB:1024. Got: {text}.")
        if rc in out:
            raise exceptions.BadRequest(f"Resource class {rc} appears more than once in resources={text}.")
        out[rc] = int(amount)
    return out


def parse_query(params: Iterable[tuple[str, str]], allow_any_of_traits: bool, allow_forbidden_aggs: bool) -> CandidateRequest:
    groups: dict[str, RequestGroup] = {}
    limit: int | None = None
    group_policy = None
    for key, value in params:
        if key == "limit":
            if not value.isdigit() or int(value) < 1:
                raise exceptions.BadRequest(f"Invalid limit {value!r}: it must be a positive integer.")
            # More than any database could hold is the same as no limit, and must not overflow SQL.
            limit = min(int(value), inventories.MAX_INT)
            continue
        if key == "group_policy":
            if value not in ("none", "isolate"):
                raise exceptions.BadRequest(f"Invalid group_policy {value!r}: use 'none' or 'isolate'.")
            group_policy = value
            continue
        match = GROUP_PARAM.match(key)
        if not match:
            raise exceptions.BadRequest(f"Invalid query string parameter: {key}.")
        kind, suffix = match.group(1), match.group(2) or ""
        group = groups.setdefault(suffix, RequestGroup(suffix))
        if kind == "resources":
            group.resources = parse_resources(value)
        elif kind == "required":
            _add_traits(group, value, allow_any_of_traits)
        elif kind == "member_of":
            _add_aggregates(group, value, allow_forbidden_aggs)
        else:
            group.in_tree = value
    for suffix, group in groups.items():
        if not group.resources and suffix:
            raise exceptions.BadRequest(f"All request groups need resources: resources{suffix} is missing.")
    if not any(g.resources for g in groups.values()):
        raise exceptions.BadRequest("A resources query string parameter is required.")
    named = [g for g in groups.values() if g.suffix]
    if len(named) > 1 and group_policy is None:
        raise exceptions.BadRequest("The \"group_policy\" parameter is required when specifying more than one "
                                    "\"resources{N}\" parameter.")
    ordered = sorted(groups.values(), key=lambda g: g.suffix)
    return CandidateRequest([g for g in ordered if g.resources or g.required or g.member_of], limit, group_policy)


def _add_traits(group: RequestGroup, value: str, allow_any_of: bool) -> None:
    if value.startswith("in:"):
        if not allow_any_of:
            raise exceptions.BadRequest("The 'in:' syntax for required traits needs microversion 1.39.")
        group.required.append({t for t in value[3:].split(",") if t})
        return
    for trait in value.split(","):
        if not trait or trait == "!":
            raise exceptions.BadRequest(f"Invalid required traits: {value!r}.")
        if trait.startswith("!"):
            group.forbidden.add(trait[1:])
        else:
            group.required.append({trait})


def _add_aggregates(group: RequestGroup, value: str, allow_forbidden: bool) -> None:
    if value.startswith("!"):
        if not allow_forbidden:
            raise exceptions.BadRequest("Forbidden aggregates need microversion 1.32.")
        text = value[1:]
        group.not_member_of |= set(text[3:].split(",") if text.startswith("in:") else [text])
        return
    group.member_of.append(set(value[3:].split(",") if value.startswith("in:") else [value]))


# -- the search -------------------------------------------------------------------------------

def group_query(group: RequestGroup) -> sa.Select[int, int | None]:
    """One SQL statement: (provider id, root id) of every provider that alone satisfies ``group``, by id."""
    rp = ResourceProvider
    q = sa.select(rp.id, rp.root_provider_id)
    for rc, amount in sorted(group.resources.items()):
        inv = orm.aliased(Inventory)
        used = (sa.select(Allocation.resource_provider_id.label("rp"), sa.func.sum(Allocation.used).label("used"))
                .where(Allocation.resource_class == rc).group_by(Allocation.resource_provider_id).subquery())
        q = (q.join(inv, sa.and_(inv.resource_provider_id == rp.id, inv.resource_class == rc))
             .outerjoin(used, used.c.rp == rp.id)
             .where((inv.total - inv.reserved) * inv.allocation_ratio >= sa.func.coalesce(used.c.used, 0) + amount,
                    inv.min_unit <= amount, inv.max_unit >= amount, sa.literal(amount) % inv.step_size == 0))
    for any_of in group.required:
        q = q.where(sa.exists().where(ProviderTrait.resource_provider_id == rp.id, ProviderTrait.trait.in_(any_of)))
    if group.forbidden:
        q = q.where(~sa.exists().where(ProviderTrait.resource_provider_id == rp.id,
                                       ProviderTrait.trait.in_(group.forbidden)))
    # Aggregates of the root count for its whole tree, as in placement.
    in_aggregate = sa.or_(ProviderAggregate.resource_provider_id == rp.id,
                          ProviderAggregate.resource_provider_id == rp.root_provider_id)
    for any_of in group.member_of:
        q = q.where(sa.exists().where(in_aggregate, ProviderAggregate.aggregate_uuid.in_(any_of)))
    if group.not_member_of:
        q = q.where(~sa.exists().where(in_aggregate, ProviderAggregate.aggregate_uuid.in_(group.not_member_of)))
    if group.in_tree:
        tree = orm.aliased(ResourceProvider)
        q = q.where(rp.root_provider_id == sa.select(tree.root_provider_id).where(
            tree.uuid == group.in_tree).scalar_subquery())
    return q.order_by(rp.id)


def check_in_tree(session: orm.Session, group: RequestGroup) -> None:
    if group.in_tree and session.scalar(sa.select(ResourceProvider.id).where(
            ResourceProvider.uuid == group.in_tree)) is None:
        raise exceptions.BadRequest(f"No provider with uuid {group.in_tree} (in_tree{group.suffix}).")


def find(session: orm.Session, request: CandidateRequest) -> list[list[tuple[int, RequestGroup]]]:
    """Allocation requests: per candidate, the provider chosen for each group (ordered, at most ``limit``)."""
    wanted = {rc for g in request.groups for rc in g.resources}
    names.require_resource_classes(session, wanted)
    names.require_traits(session, request.all_traits())
    for group in request.groups:
        check_in_tree(session, group)
    if len(request.groups) == 1:
        # The common case: the limit goes into SQL, so only what is returned is read.
        q = group_query(request.groups[0])
        if request.limit:
            q = q.limit(request.limit)
        group = request.groups[0]
        return [[(rp_id, group)] for rp_id, _ in session.connection().execute(q)]
    per_group = [list(session.execute(group_query(g))) for g in request.groups]
    by_root: dict[int, list[list[int]]] = {}
    for index, rows in enumerate(per_group):
        for rp_id, root in rows:
            by_root.setdefault(root or rp_id, [[] for _ in per_group])[index].append(rp_id)
    results: list[list[tuple[int, RequestGroup]]] = []
    for root in sorted(by_root):
        for combo in itertools.product(*by_root[root]):
            if request.group_policy == "isolate" and len(set(combo)) < len(combo):
                continue
            if not _fits_together(session, combo, request.groups):
                continue
            results.append(list(zip(combo, request.groups, strict=True)))
            if request.limit and len(results) >= request.limit:
                return results
    return results


def _fits_together(session: orm.Session, combo: tuple[int, ...], groups: list[RequestGroup]) -> bool:
    """Groups landing on the same provider must fit there together."""
    needed: dict[int, dict[str, int]] = {}
    for rp_id, group in zip(combo, groups, strict=True):
        for rc, amount in group.resources.items():
            needed.setdefault(rp_id, {})[rc] = needed.get(rp_id, {}).get(rc, 0) + amount
    if sum(len(v) for v in needed.values()) == sum(len(g.resources) for g in groups):
        return True
    for rp_id, resources in needed.items():
        q = group_query(RequestGroup("", resources)).where(ResourceProvider.id == rp_id)
        if session.execute(q).first() is None:
            return False
    return True


# -- the response body ---------------------------------------------------------------------------

def summaries(session: orm.Session, provider_ids: set[int], include_all_classes: bool, wanted: set[str],
              with_traits: bool, with_tree: bool) -> dict[int, dict[str, Any]]:
    if not provider_ids:
        return {}
    use_in = len(provider_ids) <= IN_LIST_LIMIT

    def restrict(q: Any, column: Any) -> Any:
        return q.where(column.in_(provider_ids)) if use_in else q

    # Plain rows through the session's connection: the ORM's result machinery cost more per row than
    # building the summary does, at 10,000 providers.
    conn = session.connection()
    out: dict[int, dict[str, Any]] = {}
    usage = inventories.usages(session, list(provider_ids) if use_in else None)
    columns = sa.select(Inventory.resource_provider_id, Inventory.resource_class, Inventory.total,
                        Inventory.reserved, Inventory.allocation_ratio)
    if not include_all_classes:
        columns = columns.where(Inventory.resource_class.in_(wanted))
    for rp_id, rc, total, reserved, ratio in conn.execute(restrict(columns, Inventory.resource_provider_id)):
        if rp_id not in provider_ids or (not include_all_classes and rc not in wanted):
            continue
        out.setdefault(rp_id, {"resources": {}})["resources"][rc] = {
            "capacity": int((total - reserved) * ratio), "used": usage.get((rp_id, rc), 0)}
    for rp_id in provider_ids:
        out.setdefault(rp_id, {"resources": {}})
    if with_traits:
        for rp_id in provider_ids:
            out[rp_id]["traits"] = []
        for rp_id, trait in conn.execute(restrict(sa.select(ProviderTrait.resource_provider_id, ProviderTrait.trait),
                                                  ProviderTrait.resource_provider_id)):
            if rp_id in provider_ids:
                out[rp_id]["traits"].append(trait)
        for rp_id in provider_ids:
            out[rp_id]["traits"].sort()
    if with_tree:
        rows = conn.execute(restrict(sa.select(ResourceProvider.id, ResourceProvider.parent_provider_id,
                                               ResourceProvider.root_provider_id), ResourceProvider.id))
        for rp_id, parent, root in rows:
            if rp_id in provider_ids:
                out[rp_id]["_tree"] = (parent, root)
    return out


def uuid_map(session: orm.Session, ids: set[int]) -> Mapping[int, str]:
    if len(ids) <= IN_LIST_LIMIT:
        q = sa.select(ResourceProvider.id, ResourceProvider.uuid).where(ResourceProvider.id.in_(ids))
    else:
        q = sa.select(ResourceProvider.id, ResourceProvider.uuid)
    return {i: u for i, u in session.connection().execute(q)}
