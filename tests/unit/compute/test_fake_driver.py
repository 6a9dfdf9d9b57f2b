"""The fake driver keeps the driver contract: every method, real transitions, injectable failures."""

from __future__ import annotations

import inspect

import pytest

from nubis.compute import states
from nubis.compute.virt import driver as driver_mod
from nubis.compute.virt.driver import DriverError, GuestSpec, HostResources
from nubis.compute.virt.fake import FakeDriver


def _driver() -> FakeDriver:
    return FakeDriver(HostResources("fake", "h1", vcpus=4, memory_mb=4096, disk_gb=10))


def _guest(uuid: str = "g1") -> GuestSpec:
    return GuestSpec(uuid=uuid, name="vm", vcpus=1, memory_mb=512, root_gb=1, image_ref="img")


def _driver_classes() -> list[type]:
    classes: list[type] = [FakeDriver]
    try:
        from nubis.compute.virt.libvirt.driver import LibvirtDriver
    except ImportError:  # libvirt-python missing: that driver is checked where it is installed
        return classes
    return [*classes, LibvirtDriver]


@pytest.mark.parametrize("cls", _driver_classes(), ids=lambda c: c.__name__)
def test_implements_every_driver_method_with_the_same_signature(cls: type) -> None:
    for name, member in inspect.getmembers(driver_mod.ComputeDriver, inspect.isfunction):
        if name.startswith("_"):
            continue
        assert inspect.signature(getattr(cls, name)) == inspect.signature(member), name


def test_power_transitions() -> None:
    d = _driver()
    d.spawn(_guest())
    assert d.power_state("g1") == states.RUNNING
    d.pause("g1")
    with pytest.raises(DriverError, match="cannot suspend"):
        d.suspend("g1")  # a paused guest must be unpaused first
    d.unpause("g1")
    d.power_off("g1")
    with pytest.raises(DriverError, match="cannot reboot"):
        d.reboot("g1", hard=False)  # soft reboot needs a running guest
    d.reboot("g1", hard=True)
    assert d.power_state("g1") == states.RUNNING
    d.destroy("g1")
    d.destroy("g1")  # already gone is fine
    assert d.power_state("g1") == states.NOSTATE and d.list_guests() == []


def test_injected_failure_hits_once() -> None:
    d = _driver()
    d.fail_next("spawn", "no space left")
    with pytest.raises(DriverError, match="no space left"):
        d.spawn(_guest())
    assert d.list_guests() == []
    d.spawn(_guest())
    assert d.list_guests() == ["g1"]
    with pytest.raises(DriverError, match="already exists"):
        d.spawn(_guest())


def test_guests_outlive_the_driver_in_its_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "state" / "guests.json")
    host = HostResources("fake", "h1", vcpus=4, memory_mb=4096, disk_gb=10)
    first = FakeDriver(host, path)
    first.spawn(_guest("g1"))
    first.spawn(_guest("g2"))
    first.power_off("g2")
    first.destroy("g1")
    again = FakeDriver(host, path)  # as after an agent restart: what the hypervisor still runs
    assert again.list_guests() == ["g2"] and again.power_state("g2") == states.SHUTDOWN
    assert "fake console of vm" in again.console_output("g2")


def test_slow_spawn_takes_its_time() -> None:
    import time

    slow = FakeDriver(HostResources("fake", "h1", vcpus=4, memory_mb=4096, disk_gb=10), spawn_seconds=0.3)
    began = time.monotonic()
    slow.spawn(_guest())
    assert time.monotonic() - began >= 0.3 and slow.power_state("g1") == states.RUNNING
