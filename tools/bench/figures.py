"""Figures the benchmarks measure, kept as data as well as printed.

A benchmark calls ``record`` for each figure (with the conditions it was
measured under); ``tools.bench.report`` runs the benchmarks and turns what
was recorded into ``benchmarks/results.json`` and ``BENCHMARKS.md``.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Figure:
    bench: str  # "identity"
    name: str  # "validate req/s"
    value: float
    unit: str  # "req/s", "ms", "s", "MiB", "MiB/s", "%", "/s"
    conditions: dict[str, Any]


RECORDED: list[Figure] = []


def record(bench: str, name: str, value: float, unit: str, **conditions: Any) -> None:
    RECORDED.append(Figure(bench, name, round(float(value), 3), unit, dict(conditions)))
