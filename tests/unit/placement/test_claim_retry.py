"""A claim that lost a provider generation race to another claim runs again, and only such a claim does."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import migration
from nubis.common.db.engine import Database
from nubis.placement import db as placement_db
from nubis.placement.core import allocations, inventories, providers
from nubis.placement.db.models import Allocation, ResourceProvider


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    migration.upgrade(database, placement_db.migration_repo())
    yield database
    database.dispose()


def _host(db: Database) -> str:
    with db.writer() as session:
        rp = providers.create(session, "host-1", None, None)
        inventories.replace_all(session, rp, {"VCPU": inventories.InventorySpec(total=4)})
        providers.bump_generation(session, rp)
        return rp.uuid


def _claim(consumer: str, rp_uuid: str, vcpus: int = 1) -> allocations.ConsumerAllocations:
    return allocations.ConsumerAllocations(consumer, {rp_uuid: {"VCPU": vcpus}}, "project", "user")


def _provider_read_before_commit(db: Database, rp_uuid: str) -> ResourceProvider:
    """The provider as a claim saw it before another claim committed (detached, generation kept)."""
    with db.reader() as session:
        rp = providers.get(session, rp_uuid)
        session.expunge(rp)
        return rp


def test_claim_that_lost_a_generation_race_runs_again(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="nubis.placement.core.allocations")
    rp_uuid = _host(db)
    attempts = []

    def claim_a(session: orm.Session) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            # A read the provider; B claims on the same host and commits; A writes with what it read.
            seen = _provider_read_before_commit(db, rp_uuid)
            allocations.retry_on_generation_conflict(db, lambda s: allocations.replace(s, [_claim("b", rp_uuid)]))
            session.add(seen)
        allocations.replace(session, [_claim("a", rp_uuid)])

    allocations.retry_on_generation_conflict(db, claim_a)

    assert attempts == [1, 2]
    with db.reader() as session:
        consumers = sorted(session.scalars(sa.select(Allocation.consumer_uuid)))
        assert consumers == ["a", "b"]
        assert providers.get(session, rp_uuid).generation == 3  # inventory, B, A
    lines = [r.getMessage() for r in caplog.records if "lost a race" in r.getMessage()]
    assert len(lines) == 1 and "attempt 1 failed" in lines[0] and "generation conflict" in lines[0]


def test_claim_losing_every_race_ends_in_a_concurrent_update(db: Database) -> None:
    rp_uuid = _host(db)
    attempts = []

    def always_beaten(session: orm.Session) -> None:
        attempts.append(1)
        seen = _provider_read_before_commit(db, rp_uuid)
        with db.writer() as other:  # someone else bumps the generation each time (e.g. an inventory update)
            providers.bump_generation(other, providers.get(other, rp_uuid))
        session.add(seen)
        allocations.replace(session, [_claim("a", rp_uuid)])

    with pytest.raises(exceptions.Conflict) as info:
        allocations.retry_on_generation_conflict(db, always_beaten)
    assert info.value.error_type == "placement.concurrent_update"
    assert len(attempts) == allocations.CLAIM_ATTEMPTS


def test_stale_consumer_generation_is_not_retried(db: Database) -> None:
    rp_uuid = _host(db)
    allocations.retry_on_generation_conflict(db, lambda s: allocations.replace(s, [_claim("a", rp_uuid)]))
    attempts = []

    def stale(session: orm.Session) -> None:
        attempts.append(1)
        allocations.replace(session, [_claim("a", rp_uuid)])  # consumer_generation None: "a new consumer"

    with pytest.raises(allocations.ConsumerGenerationConflict):
        allocations.retry_on_generation_conflict(db, stale)
    assert attempts == [1]
