"""Project quotas against the cloud's capacity, per resource (the seed operators' rule: the quotas handed out
must not add up to more than the cloud can hold).

Capacity is what placement admits, summed over the resource providers: ``(total - reserved) x
allocation_ratio``; the physical amount ``total - reserved`` is shown beside it. A project's quota is its
compute limit (``cores``, ``ram``, ``instances``); an unlimited one (-1) makes the sum unlimited, which is
always a warning.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from nubis.monitoring.reader import Snapshot

# Compute quota -> the placement resource class that holds it.
QUOTA_RESOURCES = {"cores": "VCPU", "ram": "MEMORY_MB"}
UNLIMITED = math.inf


@dataclasses.dataclass
class ResourceLine:
    """One resource of the report. ``quota_total`` is ``math.inf`` when some project is unlimited."""

    quota: str  # the compute quota name
    resource_class: str
    quota_total: float
    unlimited_projects: list[str]
    in_use: int  # the projects' usage, as the quota API counts it
    capacity: float  # (total - reserved) x allocation_ratio, over every provider
    physical: int  # total - reserved, over every provider
    used: int  # placement usage
    ratio: float  # quota_total / capacity (inf when capacity is 0 or the quota unlimited)
    warning: str | None

    def to_dict(self) -> dict[str, Any]:
        body = dataclasses.asdict(self)
        for key in ("quota_total", "ratio"):
            if math.isinf(body[key]):
                body[key] = "unlimited"
        return body


def capacity(snap: Snapshot) -> dict[str, tuple[float, int, int]]:
    """Per resource class: (admitted capacity, physical capacity, placement usage)."""
    out: dict[str, tuple[float, int, int]] = {}
    for rp in snap.providers:
        for rc, inv in rp.get("inventories", {}).items():
            free = max(int(inv.get("total", 0)) - int(inv.get("reserved", 0)), 0)
            admitted, physical, used = out.get(rc, (0.0, 0, 0))
            out[rc] = (admitted + free * float(inv.get("allocation_ratio", 1.0)), physical + free,
                       used + int(rp.get("usages", {}).get(rc, 0)))
    return out


def report(snap: Snapshot, warn_ratio: float = 1.0) -> list[ResourceLine]:
    """The report's lines, one per quota resource; ``warning`` says why a line breaks the rule."""
    totals = capacity(snap)
    lines = []
    for quota, rc in QUOTA_RESOURCES.items():
        total, in_use, unlimited = 0.0, 0, []
        for project_id, detail in sorted(snap.quotas.items()):
            item = detail.get(quota, {})
            limit = int(item.get("limit", 0))
            in_use += int(item.get("in_use", 0))
            if limit < 0:
                unlimited.append(project_id)
            else:
                total += limit
        if unlimited:
            total = UNLIMITED
        admitted, physical, used = totals.get(rc, (0.0, 0, 0))
        ratio = UNLIMITED if unlimited or (admitted == 0 and total > 0) else (total / admitted if admitted else 0.0)
        warning = None
        if unlimited:
            warning = f"{len(unlimited)} project(s) have an unlimited {quota} quota"
        elif ratio > warn_ratio:
            warning = (f"the projects' {quota} quotas add up to {total:g}, {ratio:.0%} of the {admitted:g} "
                       f"{rc} the cloud admits")
        lines.append(ResourceLine(quota, rc, total, unlimited, in_use, admitted, physical, used, ratio, warning))
    return lines


def render_table(lines: list[ResourceLine]) -> str:
    """The report as text, a warning line under each resource that breaks the rule."""
    out = [f"{'quota':10} {'resource':10} {'quota sum':>12} {'capacity':>12} {'physical':>10} {'used':>10} "
           f"{'quota/cap':>9}"]
    for ln in lines:
        total = "unlimited" if math.isinf(ln.quota_total) else f"{ln.quota_total:g}"
        ratio = "-" if math.isinf(ln.ratio) else f"{ln.ratio:.0%}"
        out.append(f"{ln.quota:10} {ln.resource_class:10} {total:>12} {ln.capacity:>12g} {ln.physical:>10} "
                   f"{ln.used:>10} {ratio:>9}")
        if ln.warning:
            out.append(f"  WARNING: {ln.warning}")
    return "\n".join(out)
