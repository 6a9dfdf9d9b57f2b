"""Retries around the database: deadlocked transactions, and waiting for a server that is not up yet."""

from __future__ import annotations

import collections
import logging
import os
import threading
import time

import pytest
import sqlalchemy as sa

from nubis.common import config, runtime
from nubis.common.db import migration, retry
from nubis.common.db.engine import Database, DatabaseUnreachable
from tests.unit.common.db.sample import models


def _retry_lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage() and "attempt" in r.getMessage()]


def _crossed_lockers(db: Database) -> tuple[collections.Counter[str], list[BaseException]]:
    """Two transactions lock rows a and b in opposite orders at the same moment: a real deadlock.

    Returns how often each ran and what escaped them.
    """
    with db.writer() as session:
        session.add_all([models.Widget(id="a", name="a", size=0), models.Widget(id="b", name="b", size=0)])
    both_hold_one = threading.Barrier(2, timeout=20)
    runs: collections.Counter[str] = collections.Counter()
    errors: list[BaseException] = []

    @retry.retry_on_deadlock
    def lock_both(db: Database, first: str, second: str) -> None:
        runs[first] += 1
        with db.writer() as session:
            def bump(key: str) -> None:
                query = sa.select(models.Widget).where(models.Widget.id == key).with_for_update()
                session.scalars(query).one().size += 1
                session.flush()

            bump(first)
            if runs[first] == 1:
                both_hold_one.wait()
            bump(second)

    def run(first: str, second: str) -> None:
        try:
            lock_both(db, first, second)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return runs, errors


def test_deadlock_is_retried_as_often_as_the_database_says(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    db = Database(db_url, deadlock_retries=3)
    if db.is_sqlite:
        db.dispose()
        pytest.skip("SQLite writers queue behind BEGIN IMMEDIATE and a process lock: they cannot deadlock")
    caplog.set_level(logging.DEBUG, logger="nubis.common.db.retry")
    try:
        migration.upgrade(db, models.REPO)
        runs, errors = _crossed_lockers(db)
        assert errors == []
        # The database killed one side; it ran again and both committed.
        assert sum(runs.values()) == 3
        with db.reader() as session:
            assert {w.id: w.size for w in session.scalars(sa.select(models.Widget))} == {"a": 2, "b": 2}
        lines = _retry_lines(caplog, "transient DB conflict")
        assert len(lines) == 1 and "attempt 1 failed" in lines[0]
    finally:
        db.dispose()


def test_no_deadlock_retries_lets_the_deadlock_through(db_url: str) -> None:
    db = Database(db_url, deadlock_retries=0)
    if db.is_sqlite:
        db.dispose()
        pytest.skip("SQLite writers queue behind BEGIN IMMEDIATE and a process lock: they cannot deadlock")
    try:
        migration.upgrade(db, models.REPO)
        runs, errors = _crossed_lockers(db)
        assert sum(runs.values()) == 2
        assert len(errors) == 1 and retry.is_retryable(errors[0])
    finally:
        db.dispose()


def test_deadlock_retries_come_from_the_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conf = config.new_conf()
    conf([], default_config_files=[])
    conf.set_override("state_path", str(tmp_path))
    conf.set_override("deadlock_retries", 2, group="database")
    rt = runtime.Runtime(conf)
    try:
        assert rt.database("image").deadlock_retries == 2
    finally:
        rt.close()


def test_retry_on_deadlock_needs_a_database() -> None:
    @retry.retry_on_deadlock
    def work(db: object) -> None:
        pass

    with pytest.raises(TypeError):
        work(object())


def test_retryable_errors_are_recognised() -> None:
    class FakeOrig(Exception):
        pass

    deadlock = sa.exc.OperationalError("UPDATE", {}, FakeOrig(1213, "Deadlock found"))
    locked = sa.exc.OperationalError("UPDATE", {}, FakeOrig("database is locked"))
    other = sa.exc.IntegrityError("INSERT", {}, FakeOrig(1062, "Duplicate entry"))
    refused = sa.exc.OperationalError("UPDATE", {}, FakeOrig(2003, "Can't connect to MySQL server"))
    lost = sa.exc.OperationalError("COMMIT", {}, FakeOrig(2013, "Lost connection to MySQL server during query"))
    assert retry.is_retryable(deadlock)
    assert retry.is_retryable(locked)
    assert not retry.is_retryable(other)
    assert retry.is_retryable(refused) and retry.cannot_connect(refused)
    assert not retry.is_retryable(lost)  # its COMMIT may have happened
    assert retry.lost_to_another(deadlock) and not retry.lost_to_another(refused)  # no 409 for a dead database


def test_a_database_that_cannot_be_reached_is_waited_for_longer() -> None:
    class FakeOrig(Exception):
        pass

    calls: list[float] = []

    def write() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise sa.exc.OperationalError("UPDATE", {}, FakeOrig(2003, "Can't connect to MySQL server"))
        return "written"

    assert retry.deadlock_retrying(5, "test")(write) == "written"
    assert calls[1] - calls[0] >= 0.45 and calls[2] - calls[1] >= 0.95  # 0.5 s, then 1 s


def test_unreachable_database_is_named_after_its_retries(caplog: pytest.LogCaptureFixture) -> None:
    db = Database("mysql+pymysql://nobody:secret@127.0.0.1:1/nothing")
    with pytest.raises(DatabaseUnreachable) as info:
        db.wait_until_reachable(max_retries=2, interval=0.01)
    assert "127.0.0.1:1" in str(info.value)
    assert "secret" not in str(info.value)
    lines = _retry_lines(caplog, "is not reachable")
    assert len(lines) == 2 and "attempt 1 failed" in lines[0] and "attempt 2 failed" in lines[1]
    assert all("secret" not in line for line in lines)


def test_waits_until_the_database_appears(tmp_path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    # SQLite cannot open a file in a directory that does not exist yet: a real OperationalError until it does.
    folder = tmp_path / "later"
    db = Database(f"sqlite:///{folder}/db.sqlite")
    timer = threading.Timer(0.3, os.mkdir, args=(folder,))
    timer.start()
    try:
        db.wait_until_reachable(max_retries=20, interval=0.05)
    finally:
        timer.join()
        db.dispose()
    assert len(_retry_lines(caplog, "is not reachable")) >= 1
