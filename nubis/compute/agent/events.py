"""Events other services report about this host's instances (os-server-external-events), and who waits for them.

As Nova's ``InstanceEvents``: a build that needs an event (``network-vif-plugged``
for each of its ports) says so *before* it does what causes the event, so an
event that arrives early is not lost; an event nobody expects is dropped, and a
waiter is removed when its build stops waiting, so nothing accumulates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Set
from contextlib import contextmanager

LOG = logging.getLogger(__name__)

VIF_PLUGGED = "network-vif-plugged"
# When no event has come for a while, read the ports' status once (a lost event, e.g. the network service
# could not reach compute): first after this many seconds, then twice as long each time, up to the cap.
FALLBACK_FIRST = 1.0
FALLBACK_MAX = 8.0


class Waiter:
    """The events of one name expected for one instance: which tags (port ids) came, with which status."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._received: dict[str | None, str] = {}

    def deliver(self, tag: str | None, status: str) -> None:
        with self._cond:
            self._received[tag] = status
            self._cond.notify_all()

    def wait(self, tags: Set[str], timeout: float) -> dict[str, str]:
        """Up to ``timeout`` seconds, until every one of ``tags`` came; those that came, with their status."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not tags <= self._received.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return {t: s for t, s in self._received.items() if t in tags and t is not None}


class InstanceEvents:
    """The waiters of this host's builds, by (instance uuid, event name)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[tuple[str, str], Waiter] = {}

    @contextmanager
    def expect(self, uuid: str, name: str) -> Iterator[Waiter]:
        """Collect the ``name`` events of ``uuid`` while the block runs; the waiter is removed after it."""
        waiter = Waiter()
        with self._lock:
            self._waiters[(uuid, name)] = waiter
        try:
            yield waiter
        finally:
            with self._lock:
                if self._waiters.get((uuid, name)) is waiter:
                    del self._waiters[(uuid, name)]

    def deliver(self, uuid: str, name: str, tag: str | None, status: str) -> bool:
        """Hand an event to the build expecting it; False (and the event dropped) when none does."""
        with self._lock:
            waiter = self._waiters.get((uuid, name))
        if waiter is None:
            LOG.debug("event %s (%s) for %s: nobody waits for it", name, tag, uuid)
            return False
        waiter.deliver(tag, status)
        return True

    def __len__(self) -> int:
        """How many waiters exist (builds waiting for an event now)."""
        with self._lock:
            return len(self._waiters)


def wait_for_plugged(waiter: Waiter, port_ids: Set[str], timeout: float, poll: Callable[[Set[str]], Set[str]],
                     stopping: Callable[[], bool], slice_seconds: float = 1.0) -> tuple[set[str], set[str]]:
    """Wait up to ``timeout`` seconds for ``network-vif-plugged`` of every port in ``port_ids``.

    Events come through ``waiter``; when none has come for a while (``FALLBACK_FIRST`` seconds, doubling up to
    ``FALLBACK_MAX``), and once more at the deadline, ``poll(missing)`` reads which of the missing ports the
    network service shows ACTIVE, in case their event was lost. Waits in slices of ``slice_seconds`` so that
    ``stopping()`` is seen soon.

    :returns: (ports not plugged in time, ports whose event reported ``failed``).
    """
    deadline = time.monotonic() + timeout
    missing = set(port_ids)
    failed: set[str] = set()
    interval = FALLBACK_FIRST
    next_poll = time.monotonic() + interval
    while missing and not stopping():
        now = time.monotonic()
        if now >= deadline:
            missing -= poll(missing)  # the last word before giving up
            break
        got = waiter.wait(missing, min(slice_seconds, deadline - now, max(next_poll - now, 0.0)))
        failed |= {t for t, s in got.items() if s == "failed"}
        missing -= got.keys()
        if missing and time.monotonic() >= next_poll:
            seen = poll(missing)
            if seen:
                LOG.info("ports %s are ACTIVE but their network-vif-plugged event did not come", sorted(seen))
            missing -= seen
            interval = min(interval * 2, FALLBACK_MAX)
            next_poll = time.monotonic() + interval
    return missing, failed
