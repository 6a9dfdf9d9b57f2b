"""Migrations upgrade from empty, and the models match the migrated schema, on every backend."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from nubis import services
from nubis.common.db import migration, retry
from nubis.common.db.engine import Database
from tests.unit.common.db.sample import models


def test_sample_upgrades_from_empty_and_matches_models(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert migration.current(db, models.REPO) == ()
        migration.upgrade(db, models.REPO, "0001")
        assert migration.current(db, models.REPO) == ("0001",)
        # Half-way the models must *not* match: proves the diff check can fail.
        assert migration.schema_diff(db, models.REPO) != []
        migration.upgrade(db, models.REPO)
        assert migration.current(db, models.REPO) == migration.heads(models.REPO) == ("0002",)
        assert migration.schema_diff(db, models.REPO) == []
        # A second sync is a no-op.
        migration.upgrade(db, models.REPO)
        with db.writer() as session:
            session.add(models.Widget(name="w1", size=3, extra={"a": [1, 2]}))
        with db.reader() as session:
            widget = session.scalars(sa.select(models.Widget)).one()
            assert widget.extra == {"a": [1, 2]}
    finally:
        db.dispose()


def _service_repos() -> list[migration.MigrationRepo]:
    repos = []
    for service in services.load_all():
        if service.migration_repo is not None:
            repos.append(service.migration_repo())
    return repos


@pytest.mark.parametrize("repo", _service_repos(), ids=lambda r: r.service)
def test_service_migrations_match_models(db_url: str, repo: migration.MigrationRepo) -> None:
    db = Database(db_url)
    try:
        migration.upgrade(db, repo)
        assert migration.current(db, repo) == migration.heads(repo)
        assert migration.schema_diff(db, repo) == []
    finally:
        db.dispose()


def test_writer_rolls_back_on_error(db_url: str) -> None:
    db = Database(db_url)
    try:
        migration.upgrade(db, models.REPO)
        with pytest.raises(RuntimeError):
            with db.writer() as session:
                session.add(models.Widget(name="lost", size=1))
                session.flush()
                raise RuntimeError("boom")
        with db.reader() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(models.Widget)) == 0
    finally:
        db.dispose()


def test_concurrent_writers_all_commit(db_url: str) -> None:
    """Threads writing at once never lose a write (SQLite: BEGIN IMMEDIATE + busy timeout)."""
    db = Database(db_url)
    try:
        migration.upgrade(db, models.REPO)
        with db.writer() as session:
            session.add(models.Widget(id="counter", name="counter", size=0))

        @retry.retry_on_deadlock
        def bump(db: Database) -> None:
            with db.writer() as session:
                query = sa.select(models.Widget).where(models.Widget.id == "counter")
                widget = session.scalars(query.with_for_update()).one()
                widget.size += 1

        threads = [threading.Thread(target=lambda: [bump(db) for _ in range(10)]) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with db.reader() as session:
            assert session.get(models.Widget, "counter").size == 80
    finally:
        db.dispose()
