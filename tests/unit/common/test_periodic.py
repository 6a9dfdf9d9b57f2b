"""The shared periodic-task runner: spacing, failures, NeverAgain, request ids, a clean stop."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from nubis.common import context, periodic
from tests.fixtures import wait_until


def test_tasks_run_at_their_own_spacing_on_one_thread() -> None:
    runs: dict[str, list[float]] = {"fast": [], "slow": []}
    threads: set[int] = set()

    def record(name: str) -> None:
        runs[name].append(time.monotonic())
        threads.add(threading.get_ident())

    tasks = periodic.PeriodicTasks("test").add("fast", 0.05, lambda: record("fast"))
    tasks.add("slow", 0.5, lambda: record("slow"))
    started = time.monotonic()
    tasks.start()
    try:
        wait_until(lambda: len(runs["fast"]) >= 5, timeout=10, what="five runs of the fast task")
        assert runs["fast"][0] - started >= 0.04  # the first run waits one spacing (run_immediately=False)
        assert len(runs["slow"]) <= 1
    finally:
        tasks.stop()
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_run_immediately_and_zero_spacing_turns_a_task_off() -> None:
    ran: list[str] = []
    tasks = periodic.PeriodicTasks("test").add("now", 60, lambda: ran.append("now"), run_immediately=True)
    tasks.add("off", 0, lambda: ran.append("off"), run_immediately=True)
    assert len(tasks) == 1
    tasks.start()
    try:
        wait_until(lambda: ran, timeout=10, what="the immediate run")
    finally:
        tasks.stop()
    assert ran == ["now"]


def test_no_task_at_all_starts_and_stops() -> None:
    tasks = periodic.PeriodicTasks("test").add("off", 0, lambda: None).start()
    tasks.stop()


def test_a_failing_run_is_logged_and_the_task_keeps_running(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database not reachable yet")

    tasks = periodic.PeriodicTasks("test").add("flaky", 0.05, flaky, run_immediately=True)
    with caplog.at_level(logging.ERROR, logger="nubis.common.periodic"):
        tasks.start()
        try:
            wait_until(lambda: len(calls) >= 3, timeout=10, what="runs after the failure")
        finally:
            tasks.stop()
    failures = [r for r in caplog.records if "flaky failed" in r.getMessage()]
    assert len(failures) == 1 and "database not reachable yet" in (failures[0].exc_text or "")


def test_never_again_ends_one_task_only() -> None:
    once: list[int] = []
    other: list[int] = []

    def only_once() -> None:
        if once:
            raise periodic.NeverAgain()
        once.append(1)

    tasks = periodic.PeriodicTasks("test").add("once", 0.02, only_once, run_immediately=True)
    tasks.add("other", 0.02, lambda: other.append(1))
    tasks.start()
    try:
        wait_until(lambda: len(other) >= 10, timeout=10, what="the other task to keep running")
    finally:
        tasks.stop()
    assert once == [1]


def test_each_run_has_a_request_id_of_its_own() -> None:
    ids: list[str] = []

    def record() -> None:
        current = context.current()  # what the run's log lines carry
        assert current is not None and context.admin_context().request_id == current.request_id
        ids.append(current.request_id)

    tasks = periodic.PeriodicTasks("test").add("ids", 0.02, record, run_immediately=True)
    tasks.start()
    try:
        wait_until(lambda: len(ids) >= 3, timeout=10, what="three runs")
    finally:
        tasks.stop()
    assert len(set(ids)) == len(ids) and all(i.startswith("req-") for i in ids)


def test_stop_waits_for_the_run_in_progress_and_runs_nothing_more() -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[int] = []

    def slow() -> None:
        started.set()
        release.wait(5)
        finished.append(1)

    tasks = periodic.PeriodicTasks("test").add("slow", 0.01, slow, run_immediately=True)
    tasks.start()
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    tasks.stop(timeout=5)
    assert finished == [1]  # the run in progress ended before stop() returned
    time.sleep(0.1)  # a stopped runner must not start another run; give it the chance to
    assert finished == [1]


def test_tasks_cannot_be_added_or_started_twice() -> None:
    tasks = periodic.PeriodicTasks("test").add("t", 60, lambda: None).start()
    try:
        with pytest.raises(RuntimeError):
            tasks.add("late", 60, lambda: None)
        with pytest.raises(RuntimeError):
            tasks.start()
    finally:
        tasks.stop()
