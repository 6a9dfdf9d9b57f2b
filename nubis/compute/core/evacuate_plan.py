"""``nubis-manage host evacuate-plan HOST``: where each instance on a host would go, asked of the scheduler.

A dry run: every instance's request is the one an evacuation would send (``conductor.moves.instance_spec``:
its flavor, zone and server group, the source host ignored), but to the scheduler's ``explain``, which ranks
the hosts that pass without claiming anything. Instances are planned in order, and each planned one is counted
against its destination's free capacity, so a plan does not send ten servers to a host with room for two.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.compute.conductor.moves import instance_spec
from nubis.compute.core.instances import InstanceStore
from nubis.compute.db.models import ComputeNode, Instance
from nubis.scheduler.exceptions import NoValidHost
from nubis.scheduler.rpcapi import SchedulerAPI


@dataclasses.dataclass
class PlannedMove:
    """One instance of the plan: its destination (None when no host passes) and the scheduler's account."""

    instance_uuid: str
    name: str
    project_id: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    destination: str | None
    candidates: list[str]  # hosts that passed, best first, before this plan's earlier moves were counted
    reason: str  # why the destination, or why none

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _free(db: Database) -> dict[str, list[int]]:
    """Free vCPUs, RAM (MiB) and disk (GiB) per host, from the hosts' totals and their instances' flavors."""
    with db.reader() as s:
        free = {n.host: [n.vcpus, n.memory_mb, n.local_gb] for n in s.scalars(sa.select(ComputeNode))}
        for host, vcpus, ram, disk in s.execute(
                sa.select(Instance.host, sa.func.sum(Instance.vcpus), sa.func.sum(Instance.memory_mb),
                          sa.func.sum(Instance.root_gb)).where(Instance.deleted.is_(False), Instance.host.is_not(None))
                .group_by(Instance.host)):
            if host in free:
                free[host] = [free[host][0] - int(vcpus or 0), free[host][1] - int(ram or 0),
                              free[host][2] - int(disk or 0)]
    return free


def plan(ctx: RequestContext, db: Database, scheduler: SchedulerAPI, host: str) -> list[PlannedMove]:
    """Where each (not deleted) instance on ``host`` would be evacuated to; nothing is claimed or moved.

    Raises ``LookupError`` when no compute node has that host name. The placement allocation ratios the
    scheduler applies are not re-applied to the running tally: a host the scheduler ranks stays a candidate
    while this plan's own moves fit its physical free vCPUs, RAM and disk, a conservative reading.
    """
    store = InstanceStore(db)
    with db.reader() as s:
        if s.scalar(sa.select(ComputeNode.id).where(ComputeNode.host == host).limit(1)) is None:
            raise LookupError(f"Compute host {host} could not be found.")
        rows = [(r.uuid, r.name, r.project_id, r.vcpus, r.memory_mb, r.root_gb) for r in s.scalars(
            sa.select(Instance).where(Instance.host == host, Instance.deleted.is_(False))
            .order_by(Instance.created_at, Instance.uuid))]
    free = _free(db)
    moves = []
    for uuid, name, project, vcpus, ram, disk in rows:
        spec = instance_spec(db, store, uuid, ignore_hosts=[host])
        try:
            answer = scheduler.explain(ctx, spec)
        except NoValidHost as exc:
            answer = {"ranked_hosts": [], "summary": str(exc)}
        ranked = [h["host"] for h in answer.get("ranked_hosts", []) if h["host"] != host]
        need = (int(vcpus or 0), int(ram or 0), int(disk or 0))
        chosen = next((h for h in ranked if h not in free or all(f >= n for f, n in zip(free[h], need, strict=True))), None)
        if chosen is not None:
            if chosen in free:
                free[chosen] = [f - n for f, n in zip(free[chosen], need, strict=True)]
            reason = f"best of {len(ranked)} passing host(s)" if chosen == ranked[0] else \
                "the better hosts are filled by earlier instances of this plan"
        elif ranked:
            reason = f"the {len(ranked)} passing host(s) are filled by earlier instances of this plan"
        else:
            reason = _why_none(answer)
        moves.append(PlannedMove(uuid, name or "", project or "", *need, chosen, ranked, reason))
    return moves


def _why_none(answer: dict[str, Any]) -> str:
    """The scheduler's account of the hosts it removed (``Explanation.summary``), as one line."""
    return f"no host passes: {answer.get('summary') or 'no compute hosts are registered'}"
