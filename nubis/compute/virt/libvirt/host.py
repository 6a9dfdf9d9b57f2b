"""What a libvirt host has: NUMA cells, their CPUs, memory and huge pages.

Read from ``virConnect.getCapabilities()`` (and ``getFreePages`` for what is
free), then trimmed by the operator's ``cpu_dedicated_set`` / ``cpu_shared_set``
so the scheduler only ever hands out CPUs the operator gave to guests.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from typing import Any

from nubis.compute.virt.libvirt import cpuset


@dataclasses.dataclass(frozen=True)
class HostCell:
    id: int
    cpus: frozenset[int]
    memory_kib: int
    pages: dict[int, int]  # page size KiB -> total pages
    siblings: tuple[frozenset[int], ...]  # hyperthread sibling sets


@dataclasses.dataclass(frozen=True)
class HostTopology:
    cells: tuple[HostCell, ...]

    @property
    def cpus(self) -> frozenset[int]:
        return frozenset().union(*(c.cpus for c in self.cells))

    @property
    def memory_kib(self) -> int:
        return sum(c.memory_kib for c in self.cells)


def parse_capabilities(xml: str) -> HostTopology:
    """The host NUMA topology from libvirt's capabilities XML."""
    root = ET.fromstring(xml)
    cells = []
    for cell in root.iterfind("./host/topology/cells/cell"):
        memory = cell.find("memory")
        memory_kib = int(memory.text or 0) if memory is not None else 0
        pages = {int(p.get("size", "0")): int(p.text or 0) for p in cell.iterfind("pages")}
        cpus = set()
        siblings = set()
        for cpu in cell.iterfind("./cpus/cpu"):
            cpus.add(int(cpu.get("id", "0")))
            if cpu.get("siblings"):
                siblings.add(cpuset.parse(cpu.get("siblings")))
        cells.append(HostCell(int(cell.get("id", "0")), frozenset(cpus), memory_kib, pages,
                              tuple(sorted(siblings, key=min))))
    return HostTopology(tuple(cells))


@dataclasses.dataclass(frozen=True)
class GuestResources:
    """The host's share for guests, as reported to placement and the scheduler."""

    dedicated_cpus: frozenset[int]  # PCPU inventory: pinned guests only
    shared_cpus: frozenset[int]  # VCPU inventory (and where emulator threads of pinned guests run)
    memory_mb: int
    reserved_memory_mb: int


def guest_resources(topology: HostTopology, dedicated_set: str | None, shared_set: str | None,
                    reserved_host_memory_mb: int) -> GuestResources:
    """Apply the operator's CPU sets; with neither set, every CPU is shared (floating)."""
    dedicated = cpuset.parse(dedicated_set)
    shared = cpuset.parse(shared_set) if shared_set else (frozenset() if dedicated else topology.cpus)
    unknown = (dedicated | shared) - topology.cpus
    if unknown:
        raise cpuset.InvalidCPUSet(f"CPUs {cpuset.format(unknown)} are not on this host ({cpuset.format(topology.cpus)})")
    if dedicated & shared:
        raise cpuset.InvalidCPUSet(
            f"cpu_dedicated_set and cpu_shared_set overlap on {cpuset.format(dedicated & shared)}"
        )
    return GuestResources(dedicated, shared, topology.memory_kib // 1024, reserved_host_memory_mb)


def free_pages(conn: Any, topology: HostTopology) -> dict[int, dict[int, int]]:
    """Free pages per cell per page size (KiB), as libvirt reports them now."""
    result: dict[int, dict[int, int]] = {}
    for cell in topology.cells:
        sizes = sorted(cell.pages)
        if not sizes:
            continue
        counts = conn.getFreePages(sizes, cell.id, 1)
        result[cell.id] = {int(size): int(free) for size, free in counts.get(cell.id, {}).items()}
    return result


def scheduler_topology(topology: HostTopology, resources: GuestResources,
                       free: dict[int, dict[int, int]] | None = None) -> dict[str, Any]:
    """The dict the compute agent sends with ``update_host_topology``."""
    free = free or {}
    return {
        "cells": [
            {
                "id": cell.id,
                "cpus": sorted(cell.cpus),
                "dedicated_cpus": sorted(cell.cpus & resources.dedicated_cpus),
                "shared_cpus": sorted(cell.cpus & resources.shared_cpus),
                "memory_mb": cell.memory_kib // 1024,
                "pages": {str(size): {"total": total, "free": free.get(cell.id, {}).get(size, total)}
                          for size, total in sorted(cell.pages.items())},
                "siblings": [sorted(s) for s in cell.siblings],
            }
            for cell in topology.cells
        ],
        "cpu_dedicated_set": cpuset.format(resources.dedicated_cpus),
        "cpu_shared_set": cpuset.format(resources.shared_cpus),
        "reserved_host_memory_mb": resources.reserved_memory_mb,
    }
