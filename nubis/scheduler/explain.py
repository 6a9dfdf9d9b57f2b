"""The "why no host" report: per filter and per resource, how many hosts went and why."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any


@dataclasses.dataclass
class Explanation:
    considered: int = 0
    passing: list[str] = dataclasses.field(default_factory=list)
    # stage (placement resource check or filter name) -> reason -> hosts removed
    removed: dict[str, collections.Counter[str]] = dataclasses.field(default_factory=dict)

    def remove(self, stage: str, reason: str, host: str) -> None:
        self.removed.setdefault(stage, collections.Counter())[reason] += 1

    def summary(self) -> str:
        """``3 hosts: not enough PCPU; 2 hosts: availability zone mismatch`` (largest first)."""
        counts: collections.Counter[str] = collections.Counter()
        for reasons in self.removed.values():
            counts.update(reasons)
        parts = [f"{n} host{'s' if n != 1 else ''}: {reason}" for reason, n in counts.most_common()]
        return "; ".join(parts) if parts else "no compute hosts are registered"

    def to_dict(self) -> dict[str, Any]:
        return {
            "hosts_considered": self.considered,
            "hosts_passing": sorted(self.passing),
            "removed": [{"stage": stage, "hosts": sum(r.values()),
                         "reasons": [{"reason": k, "hosts": v} for k, v in r.most_common()]}
                        for stage, r in self.removed.items()],
            "summary": self.summary(),
        }
