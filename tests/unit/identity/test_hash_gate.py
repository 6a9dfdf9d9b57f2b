"""The password-hashing gate: at most N at once, first come first served, the rest shed with a retry hint."""

from __future__ import annotations

import threading
import time

import pytest

from nubis.identity.passwords import HashGate, HashQueueFull


def _hold(gate: HashGate, seconds: float, log: list[str], name: str, errors: list[HashQueueFull]) -> None:
    try:
        with gate.slot():
            log.append(f"in {name}")
            time.sleep(seconds)
            log.append(f"out {name}")
    except HashQueueFull as exc:
        errors.append(exc)


def test_never_more_than_concurrency_at_once() -> None:
    gate = HashGate(concurrency=2, queue=20)
    active, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with gate.slot():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.01)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_waiters_go_first_come_first_served() -> None:
    gate = HashGate(concurrency=1, queue=10)
    log: list[str] = []
    errors: list[HashQueueFull] = []
    threads = []
    for i in range(5):
        t = threading.Thread(target=_hold, args=(gate, 0.05, log, str(i), errors))
        t.start()
        threads.append(t)
        time.sleep(0.01)  # arrive in order 0, 1, 2, ...
    for t in threads:
        t.join()
    assert not errors
    assert [e for e in log if e.startswith("in")] == [f"in {i}" for i in range(5)]


def test_full_queue_sheds_with_a_retry_hint() -> None:
    gate = HashGate(concurrency=1, queue=1)
    log: list[str] = []
    errors: list[HashQueueFull] = []
    threads = [threading.Thread(target=_hold, args=(gate, 0.2, log, str(i), errors)) for i in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.02)
    with pytest.raises(HashQueueFull) as info:  # one hashing, one waiting: the third is refused at once
        with gate.slot():
            pass
    assert info.value.retry_after >= 1
    for t in threads:
        t.join()
    assert not errors and len(log) == 4
    with gate.slot():  # and once they are done, there is room again
        pass
