"""NUMA fitting: which host cells, CPUs and pages a guest gets.

Pure functions over plain data. The scheduler runs ``fit`` against a host's
topology and current usage, then records the result with a compare-and-swap on
the host's usage (see ``nubis.scheduler.claims``); the compute agent pins
exactly the CPUs chosen here.

Flavor extra specs understood (Nova's names):
``hw:cpu_policy`` shared|dedicated|mixed, ``hw:cpu_thread_policy``
prefer|isolate|require, ``hw:numa_nodes`` N, ``hw:mem_page_size``
small|large|any|<size>, ``hw:cpu_dedicated_mask`` (mixed only).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

SMALL_PAGE_KB = 4


class InvalidNumaRequest(ValueError):
    """The flavor's extra specs contradict each other or are malformed."""


class NoFit(Exception):
    """The host cannot take the guest; ``reason`` says why, in operator words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class HostCell:
    id: int
    cpus: frozenset[int]  # pinnable CPUs (the host's cpu_dedicated_set in this cell)
    shared_cpus: frozenset[int]  # CPUs floating vCPUs run on (cpu_shared_set in this cell)
    memory_mb: int  # memory backed by small pages
    pages: Mapping[int, int] = dataclasses.field(default_factory=dict)  # page size KiB -> total pages
    siblings: tuple[frozenset[int], ...] = ()  # hyperthread sibling sets; empty: no SMT

    def cores(self) -> list[frozenset[int]]:
        """Physical cores as sets of pinnable threads."""
        seen: set[int] = set()
        cores = []
        for group in self.siblings:
            core = frozenset(group & self.cpus)
            if core:
                cores.append(core)
                seen |= core
        cores += [frozenset({cpu}) for cpu in sorted(self.cpus - seen)]
        return cores

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "cpus": sorted(self.cpus), "shared_cpus": sorted(self.shared_cpus),
                "memory_mb": self.memory_mb, "pages": {str(k): v for k, v in self.pages.items()},
                "siblings": [sorted(s) for s in self.siblings]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HostCell:
        return cls(id=int(d["id"]), cpus=frozenset(d["cpus"]), shared_cpus=frozenset(d.get("shared_cpus", ())),
                   memory_mb=int(d["memory_mb"]), pages={int(k): int(v) for k, v in d.get("pages", {}).items()},
                   siblings=tuple(frozenset(s) for s in d.get("siblings", ())))


@dataclasses.dataclass
class CellUsage:
    pinned: set[int] = dataclasses.field(default_factory=set)
    memory_mb: int = 0  # small-page memory used
    pages: dict[int, int] = dataclasses.field(default_factory=dict)  # page size KiB -> pages used

    def to_dict(self) -> dict[str, Any]:
        return {"pinned": sorted(self.pinned), "memory_mb": self.memory_mb,
                "pages": {str(k): v for k, v in self.pages.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CellUsage:
        return cls(set(d.get("pinned", ())), int(d.get("memory_mb", 0)),
                   {int(k): int(v) for k, v in d.get("pages", {}).items()})


Usage = dict[int, CellUsage]  # host cell id -> usage


@dataclasses.dataclass(frozen=True)
class NumaRequest:
    vcpus: int
    memory_mb: int
    cpu_policy: str = "shared"
    thread_policy: str = "prefer"
    numa_nodes: int = 1
    page_size: str = "small"  # small | large | any | <KiB>
    dedicated_vcpus: frozenset[int] = frozenset()  # guest vCPUs to pin (all of them for dedicated)

    @classmethod
    def from_flavor(cls, vcpus: int, memory_mb: int, extra_specs: Mapping[str, str]) -> NumaRequest | None:
        """The guest's NUMA needs, or None when the flavor asks for none (any host CPU, any memory)."""
        policy = extra_specs.get("hw:cpu_policy", "shared")
        if policy not in ("shared", "dedicated", "mixed"):
            raise InvalidNumaRequest(f"hw:cpu_policy must be shared, dedicated or mixed, not {policy!r}")
        thread = extra_specs.get("hw:cpu_thread_policy", "prefer")
        if thread not in ("prefer", "isolate", "require"):
            raise InvalidNumaRequest(f"hw:cpu_thread_policy must be prefer, isolate or require, not {thread!r}")
        if "hw:cpu_thread_policy" in extra_specs and policy == "shared":
            raise InvalidNumaRequest("hw:cpu_thread_policy needs hw:cpu_policy dedicated or mixed")
        nodes_text = extra_specs.get("hw:numa_nodes")
        page_size = _page_size(extra_specs.get("hw:mem_page_size"))
        if policy == "shared" and nodes_text is None and page_size is None:
            return None
        nodes = 1
        if nodes_text is not None:
            if not nodes_text.isdigit() or int(nodes_text) < 1:
                raise InvalidNumaRequest(f"hw:numa_nodes must be a positive integer, not {nodes_text!r}")
            nodes = int(nodes_text)
        if vcpus % nodes or memory_mb % nodes:
            raise InvalidNumaRequest(f"{vcpus} vCPUs and {memory_mb} MB cannot be split evenly over "
                                     f"{nodes} NUMA nodes")
        dedicated: frozenset[int] = frozenset()
        if policy == "dedicated":
            dedicated = frozenset(range(vcpus))
        elif policy == "mixed":
            mask = extra_specs.get("hw:cpu_dedicated_mask")
            if not mask:
                raise InvalidNumaRequest("hw:cpu_policy=mixed needs hw:cpu_dedicated_mask")
            dedicated = _parse_mask(mask, vcpus)
            if not dedicated or len(dedicated) == vcpus:
                raise InvalidNumaRequest("hw:cpu_dedicated_mask must leave some vCPUs shared and pin at least one")
        elif "hw:cpu_dedicated_mask" in extra_specs:
            raise InvalidNumaRequest("hw:cpu_dedicated_mask needs hw:cpu_policy=mixed")
        return cls(vcpus, memory_mb, policy, thread, nodes, page_size or "small", dedicated)


def _page_size(text: str | None) -> str | None:
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered in ("small", "large", "any"):
        return lowered
    match = re.fullmatch(r"(\d+)\s*(kb|k|mb|m|gb|g)?", lowered)
    if not match:
        raise InvalidNumaRequest(f"hw:mem_page_size must be small, large, any or a size like 2MB, not {text!r}")
    number, unit = int(match.group(1)), match.group(2) or "kb"
    factor = {"kb": 1, "k": 1, "mb": 1024, "m": 1024, "gb": 1024 * 1024, "g": 1024 * 1024}[unit]
    return str(number * factor)


def _parse_mask(mask: str, vcpus: int) -> frozenset[int]:
    """``0-1,4`` pins those vCPUs; ``^0-1`` pins all but those."""
    exclude = mask.startswith("^")
    chosen: set[int] = set()
    for part in mask.lstrip("^").split(","):
        start, _, end = part.partition("-")
        if not start.strip().isdigit() or (end and not end.strip().isdigit()):
            raise InvalidNumaRequest(f"malformed hw:cpu_dedicated_mask {mask!r}")
        chosen |= set(range(int(start), int(end or start) + 1))
    if any(v >= vcpus for v in chosen):
        raise InvalidNumaRequest(f"hw:cpu_dedicated_mask {mask!r} names vCPUs beyond the flavor's {vcpus}")
    return frozenset(set(range(vcpus)) - chosen if exclude else chosen)


@dataclasses.dataclass(frozen=True)
class CellFit:
    host_cell: int
    vcpus: tuple[int, ...]  # guest vCPUs in this guest cell
    pinning: Mapping[int, int]  # guest vCPU -> host CPU (dedicated vCPUs only)
    reserved: frozenset[int]  # host CPUs taken (pinned CPUs plus isolated siblings)
    memory_mb: int
    page_size_kb: int

    def to_dict(self) -> dict[str, Any]:
        return {"host_cell": self.host_cell, "vcpus": list(self.vcpus),
                "pinning": {str(k): v for k, v in self.pinning.items()}, "reserved": sorted(self.reserved),
                "memory_mb": self.memory_mb, "page_size_kb": self.page_size_kb}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CellFit:
        return cls(int(d["host_cell"]), tuple(d["vcpus"]), {int(k): int(v) for k, v in d["pinning"].items()},
                   frozenset(d["reserved"]), int(d["memory_mb"]), int(d["page_size_kb"]))


@dataclasses.dataclass(frozen=True)
class NumaFit:
    cells: tuple[CellFit, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"cells": [c.to_dict() for c in self.cells]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NumaFit:
        return cls(tuple(CellFit.from_dict(c) for c in d["cells"]))


def fit(cells: Iterable[HostCell], usage: Mapping[int, CellUsage], req: NumaRequest) -> NumaFit:
    """Place every guest cell on its own host cell; ``NoFit`` with the closest miss otherwise."""
    host_cells = sorted(cells, key=lambda c: c.id)
    if req.numa_nodes > len(host_cells):
        raise NoFit(f"the guest wants {req.numa_nodes} NUMA nodes, the host has {len(host_cells)}")
    per_cell_vcpus = req.vcpus // req.numa_nodes
    per_cell_memory = req.memory_mb // req.numa_nodes
    guest_cells = [tuple(range(i * per_cell_vcpus, (i + 1) * per_cell_vcpus)) for i in range(req.numa_nodes)]
    reasons: list[str] = []
    for chosen in itertools.permutations(host_cells, req.numa_nodes):
        fits: list[CellFit] = []
        try:
            for vcpus, host_cell in zip(guest_cells, chosen, strict=True):
                fits.append(_fit_cell(host_cell, usage.get(host_cell.id, CellUsage()), vcpus, per_cell_memory, req))
        except NoFit as miss:
            reasons.append(miss.reason)
            continue
        return NumaFit(tuple(fits))
    raise NoFit(_closest(reasons))


def _closest(reasons: list[str]) -> str:
    # The most frequent reason is the one that blocks the most placements.
    return max(set(reasons), key=reasons.count) if reasons else "no NUMA placement"


def _fit_cell(cell: HostCell, used: CellUsage, vcpus: tuple[int, ...], memory_mb: int,
              req: NumaRequest) -> CellFit:
    page_kb = _choose_pages(cell, used, memory_mb, req.page_size)
    dedicated = [v for v in vcpus if v in req.dedicated_vcpus]
    floating = [v for v in vcpus if v not in req.dedicated_vcpus]
    if floating and not cell.shared_cpus:
        raise NoFit(f"NUMA node {cell.id} has no shared CPUs for {len(floating)} floating vCPUs")
    pinning: dict[int, int] = {}
    reserved: set[int] = set()
    if dedicated:
        pinning, reserved = _pin(cell, used, dedicated, req.thread_policy)
    return CellFit(cell.id, vcpus, pinning, frozenset(reserved), memory_mb, page_kb)


def _choose_pages(cell: HostCell, used: CellUsage, memory_mb: int, wanted: str) -> int:
    def free_small() -> int:
        return cell.memory_mb - used.memory_mb

    def fits_pages(size_kb: int) -> bool:
        free = cell.pages.get(size_kb, 0) - used.pages.get(size_kb, 0)
        return (memory_mb * 1024) % size_kb == 0 and free * size_kb >= memory_mb * 1024

    if wanted == "small":
        if free_small() >= memory_mb:
            return SMALL_PAGE_KB
        raise NoFit(f"not enough memory on NUMA node {cell.id}: {memory_mb} MB wanted, {free_small()} MB free")
    if wanted in ("large", "any"):
        for size in sorted(cell.pages, reverse=True):
            if fits_pages(size):
                return size
        if wanted == "any" and free_small() >= memory_mb:
            return SMALL_PAGE_KB
        raise NoFit(f"not enough free huge pages on NUMA node {cell.id} for {memory_mb} MB")
    size_kb = int(wanted)
    if size_kb == SMALL_PAGE_KB:
        return _choose_pages(cell, used, memory_mb, "small")
    if fits_pages(size_kb):
        return size_kb
    free = cell.pages.get(size_kb, 0) - used.pages.get(size_kb, 0)
    raise NoFit(f"not enough free {size_kb} KiB pages on NUMA node {cell.id}: {memory_mb} MB wanted, "
                f"{free * size_kb // 1024} MB free")


def _pin(cell: HostCell, used: CellUsage, vcpus: list[int], thread_policy: str) -> tuple[dict[int, int], set[int]]:
    free_cores = [core - used.pinned for core in cell.cores() if core - used.pinned]
    free = sum(len(core) for core in free_cores)
    need = len(vcpus)
    if thread_policy == "isolate":
        whole = sorted(core for core in cell.cores() if not core & used.pinned)
        if len(whole) < need:
            raise NoFit(f"not enough free whole cores on NUMA node {cell.id} for {need} isolated vCPUs "
                        f"({len(whole)} free)")
        chosen = whole[:need]
        return {v: min(core) for v, core in zip(vcpus, chosen, strict=True)}, set().union(*chosen)
    if thread_policy == "require":
        if not cell.siblings:
            raise NoFit(f"NUMA node {cell.id} has no SMT siblings (hw:cpu_thread_policy=require)")
        if need % 2:
            raise NoFit("hw:cpu_thread_policy=require needs an even number of pinned vCPUs per NUMA node")
        pairs = [sorted(core)[:2 * (len(core) // 2)] for core in free_cores if len(core) >= 2]
        threads = [cpu for pair in pairs for cpu in pair]
        if len(threads) < need:
            raise NoFit(f"not enough free sibling threads on NUMA node {cell.id} for {need} vCPUs")
        return dict(zip(vcpus, threads[:need], strict=True)), set(threads[:need])
    if free < need:
        raise NoFit(f"not enough free dedicated CPUs on NUMA node {cell.id}: {need} wanted, {free} free")
    # prefer: fill the fullest cores first so whole cores stay free for others.
    ordered = [cpu for core in sorted(free_cores, key=lambda c: (-len(c), min(c))) for cpu in sorted(core)]
    chosen_cpus = ordered[:need]
    return dict(zip(vcpus, chosen_cpus, strict=True)), set(chosen_cpus)


def apply(usage: Mapping[int, CellUsage], result: NumaFit, sign: int = 1) -> Usage:
    """Usage after claiming (sign 1) or releasing (sign -1) ``result``."""
    out = {k: CellUsage(set(v.pinned), v.memory_mb, dict(v.pages)) for k, v in usage.items()}
    for cell in result.cells:
        u = out.setdefault(cell.host_cell, CellUsage())
        if sign > 0:
            if u.pinned & cell.reserved:
                raise NoFit(f"CPUs {sorted(u.pinned & cell.reserved)} on NUMA node {cell.host_cell} are taken")
            u.pinned |= set(cell.reserved)
        else:
            u.pinned -= set(cell.reserved)
        if cell.page_size_kb == SMALL_PAGE_KB:
            u.memory_mb += sign * cell.memory_mb
        else:
            count = cell.memory_mb * 1024 // cell.page_size_kb
            u.pages[cell.page_size_kb] = u.pages.get(cell.page_size_kb, 0) + sign * count
    return out
