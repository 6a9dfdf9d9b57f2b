"""The compute agent's external events: bounded waiters, network-vif-plugged instead of polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Set

from nubis.compute.agent import events


def _later(seconds: float, fn, *args) -> threading.Timer:  # type: ignore[no-untyped-def]
    timer = threading.Timer(seconds, fn, args)
    timer.start()
    return timer


class _Ports:
    """The network service's view of the ports, as the fallback reads it: which are ACTIVE, and how often asked."""

    def __init__(self, active: Set[str] = frozenset()) -> None:
        self.active = set(active)
        self.reads = 0

    def poll(self, ports: Set[str]) -> set[str]:
        self.reads += 1
        return self.active & set(ports)


def test_an_event_nobody_expects_is_dropped_and_waiters_are_removed() -> None:
    registry = events.InstanceEvents()
    assert not registry.deliver("vm-1", events.VIF_PLUGGED, "port-1", "completed")
    assert len(registry) == 0
    with registry.expect("vm-1", events.VIF_PLUGGED) as waiter:
        assert len(registry) == 1
        assert registry.deliver("vm-1", events.VIF_PLUGGED, "port-1", "completed")
        assert not registry.deliver("vm-2", events.VIF_PLUGGED, "port-1", "completed")
        assert waiter.wait({"port-1"}, 0) == {"port-1": "completed"}
    assert len(registry) == 0  # cleaned up when the build stops waiting
    try:
        with registry.expect("vm-1", events.VIF_PLUGGED):
            raise RuntimeError("spawn failed")
    except RuntimeError:
        pass
    assert len(registry) == 0


def test_an_event_that_comes_before_the_wait_is_kept() -> None:
    registry = events.InstanceEvents()
    ports = _Ports()
    with registry.expect("vm-1", events.VIF_PLUGGED) as waiter:
        registry.deliver("vm-1", events.VIF_PLUGGED, "port-1", "completed")  # while the ports are still bound
        began = time.monotonic()
        missing, failed = events.wait_for_plugged(waiter, {"port-1"}, 30, ports.poll, lambda: False)
    assert (missing, failed) == (set(), set())
    assert time.monotonic() - began < 0.5
    assert ports.reads == 0  # the event answered: no status read


def test_the_build_wakes_on_the_events_not_on_a_poll() -> None:
    registry = events.InstanceEvents()
    ports = _Ports()
    with registry.expect("vm-1", events.VIF_PLUGGED) as waiter:
        timers = [_later(0.1, registry.deliver, "vm-1", events.VIF_PLUGGED, p, "completed") for p in ("a", "b")]
        began = time.monotonic()
        missing, failed = events.wait_for_plugged(waiter, {"a", "b"}, 30, ports.poll, lambda: False)
        for t in timers:
            t.join()
    assert (missing, failed) == (set(), set())
    assert time.monotonic() - began < events.FALLBACK_FIRST
    assert ports.reads == 0


def test_a_lost_event_is_made_up_for_by_reading_the_port_status() -> None:
    registry = events.InstanceEvents()
    ports = _Ports(active={"a"})  # wired, but its event never came
    with registry.expect("vm-1", events.VIF_PLUGGED) as waiter:
        missing, failed = events.wait_for_plugged(waiter, {"a"}, 30, ports.poll, lambda: False)
    assert (missing, failed) == (set(), set())
    assert ports.reads == 1


def test_timeout_failed_event_and_stopping() -> None:
    registry = events.InstanceEvents()
    ports = _Ports()
    with registry.expect("vm-1", events.VIF_PLUGGED) as waiter:
        began = time.monotonic()
        missing, _ = events.wait_for_plugged(waiter, {"a"}, 0.3, ports.poll, lambda: False)
        assert missing == {"a"} and 0.3 <= time.monotonic() - began < 1.0
        assert ports.reads == 1  # one last read at the deadline

        registry.deliver("vm-1", events.VIF_PLUGGED, "a", "failed")
        assert events.wait_for_plugged(waiter, {"a"}, 5, ports.poll, lambda: False) == (set(), {"a"})

        began = time.monotonic()
        missing, _ = events.wait_for_plugged(waiter, {"b"}, 30, ports.poll, lambda: True)
        assert missing == {"b"} and time.monotonic() - began < 0.5
