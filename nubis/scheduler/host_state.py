"""A candidate host as filters and weighers see it: the scheduler's record plus placement's summary."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from nubis.scheduler import numa
from nubis.scheduler.db.models import ComputeHost


@dataclasses.dataclass
class HostState:
    host: str
    node: str
    provider_uuid: str
    availability_zone: str
    enabled: bool
    updated_at: datetime.datetime
    capabilities: Mapping[str, Any]
    aggregate_metadata: Mapping[str, str]
    cells: list[numa.HostCell]
    usage: numa.Usage
    generation: int
    resources: Mapping[str, Mapping[str, int]]  # placement summary: class -> {capacity, used}
    allocation_request: Mapping[str, Any]
    numa_fit: numa.NumaFit | None = None  # set by the NUMA filter
    weight: float = 0.0

    def free(self, resource_class: str) -> int:
        r = self.resources.get(resource_class)
        return (r["capacity"] - r["used"]) if r else 0

    @classmethod
    def build(cls, row: ComputeHost, summary: Mapping[str, Any], allocation_request: Mapping[str, Any]) -> HostState:
        return cls(
            host=row.host, node=row.node, provider_uuid=row.provider_uuid,
            availability_zone=row.aggregate_zone or row.availability_zone,
            enabled=row.enabled and not row.disabled_by_admin, updated_at=row.updated_at,
            capabilities=dict(row.capabilities or {}), aggregate_metadata=dict(row.aggregate_metadata or {}),
            cells=[numa.HostCell.from_dict(c) for c in row.numa_topology or []],
            usage={int(k): numa.CellUsage.from_dict(v) for k, v in (row.numa_usage or {}).items()},
            generation=row.generation, resources=summary.get("resources", {}),
            allocation_request=allocation_request,
        )
