"""NUMA claims: a host's CPU and page usage, changed only by compare-and-swap on its generation.

Two schedulers fitting guests on the same host concurrently both read
generation g; the first to write moves it to g+1, the second's write matches
no row and it re-fits against the new usage (or moves on to another host).
No CPU is ever handed out twice, without locks held across requests.
"""

from __future__ import annotations

import sqlalchemy as sa

from nubis.common.db import dml, types
from nubis.common.db.engine import Database
from nubis.scheduler import numa
from nubis.scheduler.db.models import ComputeHost, NumaClaim

ATTEMPTS = 5


class ClaimLost(Exception):
    """The host's usage changed too often under us, or the guest no longer fits."""


def _usage_of(row: ComputeHost) -> numa.Usage:
    return {int(k): numa.CellUsage.from_dict(v) for k, v in (row.numa_usage or {}).items()}


def claim(db: Database, host: str, instance_uuid: str, request: numa.NumaRequest) -> numa.NumaFit:
    """Fit ``request`` on ``host`` against its current usage and record it atomically."""
    for _ in range(ATTEMPTS):
        with db.reader() as s:
            row = s.get(ComputeHost, host)
            if row is None:
                raise ClaimLost(f"host {host} is not known to the scheduler")
            generation, usage = row.generation, _usage_of(row)
            cells = [numa.HostCell.from_dict(c) for c in row.numa_topology or []]
        try:
            result = numa.fit(cells, usage, request)
            new_usage = numa.apply(usage, result)
        except numa.NoFit as miss:
            raise ClaimLost(miss.reason) from None
        with db.writer() as s:
            moved = dml.rowcount(s.execute(
                sa.update(ComputeHost)
                .where(ComputeHost.host == host, ComputeHost.generation == generation)
                .values(generation=generation + 1,
                        numa_usage={str(k): v.to_dict() for k, v in new_usage.items()})
                .execution_options(synchronize_session=False)))
            if moved == 1:
                s.merge(NumaClaim(instance_uuid=instance_uuid, host=host, fit=result.to_dict()))
                return result
    raise ClaimLost(f"host {host} changed under {ATTEMPTS} claim attempts")


def release(db: Database, instance_uuid: str) -> bool:
    """Give back an instance's CPUs and pages; False when it held none."""
    for _ in range(ATTEMPTS):
        with db.reader() as s:
            record = s.get(NumaClaim, instance_uuid)
            if record is None:
                return False
            row = s.get(ComputeHost, record.host)
            if row is None:
                return False
            generation, usage = row.generation, _usage_of(row)
            result = numa.NumaFit.from_dict(record.fit)
            host = record.host
        new_usage = numa.apply(usage, result, sign=-1)
        with db.writer() as s:
            moved = dml.rowcount(s.execute(
                sa.update(ComputeHost)
                .where(ComputeHost.host == host, ComputeHost.generation == generation)
                .values(generation=generation + 1,
                        numa_usage={str(k): v.to_dict() for k, v in new_usage.items()})
                .execution_options(synchronize_session=False)))
            if moved == 1:
                s.execute(sa.delete(NumaClaim).where(NumaClaim.instance_uuid == instance_uuid))
                return True
    raise ClaimLost(f"could not release {instance_uuid}: host kept changing")


def touch(db: Database, host: str) -> None:
    with db.writer() as s:
        s.execute(sa.update(ComputeHost).where(ComputeHost.host == host).values(updated_at=types.utcnow()))
