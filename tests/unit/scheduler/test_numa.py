"""NUMA fitting: dedicated CPUs, thread policies, huge pages, 1- and 2-cell hosts."""

from __future__ import annotations

import pytest

from nubis.scheduler import numa

GB = 1024
PAGE_2M, PAGE_1G = 2048, 1024 * 1024


def cell(cid: int, cpus: range, shared: range = range(0), memory_mb: int = 16 * GB,
         pages: dict[int, int] | None = None, smt: bool = False) -> numa.HostCell:
    siblings = tuple(frozenset({c, c + 1}) for c in cpus if smt and (c - cpus.start) % 2 == 0)
    return numa.HostCell(cid, frozenset(cpus), frozenset(shared), memory_mb, pages or {}, siblings)


def request(vcpus: int, memory_mb: int, **specs: str) -> numa.NumaRequest:
    req = numa.NumaRequest.from_flavor(vcpus, memory_mb, {f"hw:{k}": v for k, v in specs.items()})
    assert req is not None
    return req


ONE_CELL = [cell(0, range(4, 12), shared=range(0, 4), pages={PAGE_2M: 2048})]
TWO_CELLS = [cell(0, range(2, 8), shared=range(0, 2), pages={PAGE_2M: 1024}),
             cell(1, range(10, 16), shared=range(8, 10), pages={PAGE_2M: 1024, PAGE_1G: 4})]


def test_plain_flavor_has_no_numa_request() -> None:
    assert numa.NumaRequest.from_flavor(2, 2048, {}) is None


def test_dedicated_pins_distinct_cpus_outside_the_host_reserved_cores() -> None:
    result = numa.fit(ONE_CELL, {}, request(4, 4 * GB, cpu_policy="dedicated"))
    (c,) = result.cells
    assert set(c.pinning) == {0, 1, 2, 3}
    assert len(set(c.pinning.values())) == 4 and set(c.pinning.values()) <= set(range(4, 12))
    assert c.page_size_kb == numa.SMALL_PAGE_KB


def test_claims_never_double_assign_a_cpu() -> None:
    usage: numa.Usage = {}
    seen: set[int] = set()
    req = request(3, GB, cpu_policy="dedicated")
    for _ in range(2):  # 8 dedicated CPUs: room for two 3-vCPU guests, not three
        result = numa.fit(ONE_CELL, usage, req)
        cpus = set(result.cells[0].pinning.values())
        assert not cpus & seen
        seen |= cpus
        usage = numa.apply(usage, result)
    with pytest.raises(numa.NoFit, match="not enough free dedicated CPUs on NUMA node 0: 3 wanted, 2 free"):
        numa.fit(ONE_CELL, usage, req)
    # Applying a stale fit (made before the usage changed) is refused too.
    stale = numa.fit(ONE_CELL, {}, req)
    with pytest.raises(numa.NoFit, match="taken"):
        numa.apply(usage, stale)


def test_hugepages_are_counted_per_size() -> None:
    req = request(2, 2 * GB, cpu_policy="dedicated", mem_page_size="2MB")
    result = numa.fit(ONE_CELL, {}, req)
    assert result.cells[0].page_size_kb == PAGE_2M
    usage = numa.apply({}, result)
    assert usage[0].pages == {PAGE_2M: 1024} and usage[0].memory_mb == 0
    usage = numa.apply(usage, numa.fit(ONE_CELL, usage, req))
    with pytest.raises(numa.NoFit, match="2048 KiB pages on NUMA node 0: 2048 MB wanted, 0 MB free"):
        numa.fit(ONE_CELL, usage, req)
    released = numa.apply(usage, result, sign=-1)
    assert released[0].pages == {PAGE_2M: 1024}


def test_large_takes_the_biggest_page_that_fits() -> None:
    result = numa.fit(TWO_CELLS, {}, request(2, 2 * GB, mem_page_size="large"))
    assert result.cells[0].page_size_kb == PAGE_2M  # cell 0 only has 2 MB pages
    pinned_to_1 = numa.fit([TWO_CELLS[1]], {}, request(2, 2 * GB, mem_page_size="large"))
    assert pinned_to_1.cells[0].page_size_kb == PAGE_1G


def test_two_numa_nodes_split_cpus_and_memory_over_two_host_cells() -> None:
    result = numa.fit(TWO_CELLS, {}, request(4, 4 * GB, cpu_policy="dedicated", numa_nodes="2",
                                             mem_page_size="2048"))
    assert [c.host_cell for c in result.cells] == [0, 1]
    assert [c.vcpus for c in result.cells] == [(0, 1), (2, 3)]
    assert set(result.cells[0].pinning.values()) <= set(range(2, 8))
    assert set(result.cells[1].pinning.values()) <= set(range(10, 16))
    assert all(c.memory_mb == 2 * GB for c in result.cells)
    with pytest.raises(numa.NoFit, match="wants 2 NUMA nodes, the host has 1"):
        numa.fit(ONE_CELL, {}, request(4, 4 * GB, numa_nodes="2"))


def test_full_cell_moves_the_guest_to_the_other_cell() -> None:
    usage = {0: numa.CellUsage(pinned=set(range(2, 8)))}
    result = numa.fit(TWO_CELLS, usage, request(2, GB, cpu_policy="dedicated"))
    assert result.cells[0].host_cell == 1


def test_thread_policies() -> None:
    smt = [cell(0, range(0, 8), smt=True)]  # cores {0,1} {2,3} {4,5} {6,7}
    isolate = numa.fit(smt, {}, request(2, GB, cpu_policy="dedicated", cpu_thread_policy="isolate"))
    assert isolate.cells[0].reserved == frozenset({0, 1, 2, 3})  # siblings kept idle
    require = numa.fit(smt, {}, request(4, GB, cpu_policy="dedicated", cpu_thread_policy="require"))
    assert sorted(require.cells[0].pinning.values()) == [0, 1, 2, 3]
    with pytest.raises(numa.NoFit, match="no SMT siblings"):
        numa.fit(ONE_CELL, {}, request(2, GB, cpu_policy="dedicated", cpu_thread_policy="require"))
    usage = numa.apply({}, isolate)
    with pytest.raises(numa.NoFit, match="whole cores"):
        numa.fit(smt, usage, request(3, GB, cpu_policy="dedicated", cpu_thread_policy="isolate"))


def test_mixed_pins_the_mask_and_floats_the_rest() -> None:
    result = numa.fit(ONE_CELL, {}, request(4, GB, cpu_policy="mixed", cpu_dedicated_mask="^0-1"))
    assert set(result.cells[0].pinning) == {2, 3}
    no_shared = [cell(0, range(0, 8))]
    with pytest.raises(numa.NoFit, match="no shared CPUs"):
        numa.fit(no_shared, {}, request(4, GB, cpu_policy="mixed", cpu_dedicated_mask="0"))


@pytest.mark.parametrize("specs, message", [
    ({"cpu_policy": "pinned"}, "hw:cpu_policy"),
    ({"cpu_policy": "dedicated", "numa_nodes": "3"}, "split evenly"),
    ({"cpu_policy": "mixed"}, "hw:cpu_dedicated_mask"),
    ({"cpu_policy": "mixed", "cpu_dedicated_mask": "0-3"}, "leave some"),
    ({"cpu_policy": "mixed", "cpu_dedicated_mask": "7"}, "beyond"),
    ({"mem_page_size": "huge"}, "hw:mem_page_size"),
    ({"cpu_thread_policy": "isolate"}, "needs hw:cpu_policy"),
])
def test_contradictory_extra_specs_are_refused(specs: dict[str, str], message: str) -> None:
    with pytest.raises(numa.InvalidNumaRequest, match=message):
        numa.NumaRequest.from_flavor(4, 4 * GB, {f"hw:{k}": v for k, v in specs.items()})


def test_serialisation_round_trips() -> None:
    result = numa.fit(TWO_CELLS, {}, request(4, 4 * GB, cpu_policy="dedicated", numa_nodes="2"))
    assert numa.NumaFit.from_dict(result.to_dict()) == result
    assert numa.HostCell.from_dict(TWO_CELLS[1].to_dict()) == TWO_CELLS[1]
