"""Host topology from libvirt capabilities, and the operator's CPU sets."""

from __future__ import annotations

import pytest

from nubis.compute.virt.libvirt import cpuset, host

TWO_CELLS = """
<capabilities><host><topology><cells num='2'>
  <cell id='0'>
    <memory unit='KiB'>8388608</memory>
    <pages unit='KiB' size='4'>1572864</pages><pages unit='KiB' size='2048'>1024</pages>
    <cpus num='4'>
      <cpu id='0' socket_id='0' core_id='0' siblings='0,4'/><cpu id='1' socket_id='0' core_id='1' siblings='1,5'/>
      <cpu id='4' socket_id='0' core_id='0' siblings='0,4'/><cpu id='5' socket_id='0' core_id='1' siblings='1,5'/>
    </cpus>
  </cell>
  <cell id='1'>
    <memory unit='KiB'>8388608</memory>
    <pages unit='KiB' size='4'>2097152</pages><pages unit='KiB' size='2048'>0</pages>
    <cpus num='4'>
      <cpu id='2' siblings='2,6'/><cpu id='3' siblings='3,7'/><cpu id='6' siblings='2,6'/><cpu id='7' siblings='3,7'/>
    </cpus>
  </cell>
</cells></topology></host></capabilities>
"""


@pytest.mark.parametrize(
    ("spec", "cpus"),
    [("", set()), ("0-3", {0, 1, 2, 3}), ("0-3,^1,8", {0, 2, 3, 8}), (" 4 , 6-7 ", {4, 6, 7})],
)
def test_cpuset_parse(spec: str, cpus: set[int]) -> None:
    assert cpuset.parse(spec) == cpus


@pytest.mark.parametrize("spec", ["a", "3-1", "1-", "-2", "^x"])
def test_cpuset_rejects_garbage(spec: str) -> None:
    with pytest.raises(cpuset.InvalidCPUSet) as info:
        cpuset.parse(spec)
    assert repr(spec) in str(info.value)


def test_cpuset_format_round_trip() -> None:
    assert cpuset.format({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert cpuset.parse(cpuset.format({3, 9, 10, 11})) == {3, 9, 10, 11}


def test_parse_two_cell_host() -> None:
    topo = host.parse_capabilities(TWO_CELLS)
    assert [c.id for c in topo.cells] == [0, 1]
    assert topo.cells[0].cpus == {0, 1, 4, 5}
    assert topo.cells[0].pages == {4: 1572864, 2048: 1024}
    assert topo.cells[0].siblings == (frozenset({0, 4}), frozenset({1, 5}))
    assert topo.memory_kib == 16 * 1024 * 1024


def test_operator_sets_split_cpus() -> None:
    topo = host.parse_capabilities(TWO_CELLS)
    res = host.guest_resources(topo, "2-3,6-7", "1,5", reserved_host_memory_mb=512)
    assert res.dedicated_cpus == {2, 3, 6, 7} and res.shared_cpus == {1, 5}
    report = host.scheduler_topology(topo, res, {0: {2048: 1000}})
    cell0, cell1 = report["cells"]
    assert cell0["dedicated_cpus"] == [] and cell0["shared_cpus"] == [1, 5]
    assert cell1["dedicated_cpus"] == [2, 3, 6, 7]
    assert cell0["pages"]["2048"] == {"total": 1024, "free": 1000}
    assert report["cpu_dedicated_set"] == "2-3,6-7"


def test_default_is_all_shared() -> None:
    topo = host.parse_capabilities(TWO_CELLS)
    res = host.guest_resources(topo, None, None, 0)
    assert res.shared_cpus == topo.cpus and res.dedicated_cpus == set()


@pytest.mark.parametrize(("dedicated", "shared", "message"), [("0-9", None, "not on this host"), ("0-2", "2", "overlap")])
def test_bad_operator_sets(dedicated: str, shared: str | None, message: str) -> None:
    topo = host.parse_capabilities(TWO_CELLS)
    with pytest.raises(cpuset.InvalidCPUSet) as info:
        host.guest_resources(topo, dedicated, shared, 0)
    assert message in str(info.value)


def test_live_host_capabilities() -> None:
    libvirt = pytest.importorskip("libvirt")
    try:
        conn = libvirt.openReadOnly("qemu:///system")
    except libvirt.libvirtError:
        pytest.skip("libvirtd is not running")
    try:
        topo = host.parse_capabilities(conn.getCapabilities())
        assert topo.cells and topo.cpus
        assert set(host.free_pages(conn, topo)) == {c.id for c in topo.cells}
    finally:
        conn.close()
