"""Nova-style CPU set strings: ``"0-3,8,^2"`` ↔ ``{0, 1, 3, 8}``."""

from __future__ import annotations

from collections.abc import Iterable


class InvalidCPUSet(ValueError):
    pass


def parse(spec: str | None) -> frozenset[int]:
    """Parse ranges, single CPUs and ``^N`` exclusions; raise ``InvalidCPUSet`` naming the bad part."""
    if not spec or not spec.strip():
        return frozenset()
    include: set[int] = set()
    exclude: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        target = include
        if part.startswith("^"):
            target, part = exclude, part[1:]
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi or lo < 0:
                    raise ValueError
                target.update(range(lo, hi + 1))
            else:
                cpu = int(part)
                if cpu < 0:
                    raise ValueError
                target.add(cpu)
        except ValueError:
            raise InvalidCPUSet(f"invalid CPU set element {part!r} in {spec!r}") from None
    return frozenset(include - exclude)


def format(cpus: Iterable[int]) -> str:  # noqa: A001 - mirrors parse()
    """The shortest range form: ``{0,1,2,5}`` → ``"0-2,5"``."""
    ordered = sorted(set(cpus))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)
