"""A placement write that loses a deadlock is run again, not answered 500.

InnoDB (and a Galera certification failure) kills one of two transactions updating the same provider
rows; the compute agent's inventory update at start was answered 500 that way and the agent exited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.functional.cloud import Cloud
from tests.functional.placement.conftest import placement_client


class _Deadlocks:
    """Answers the next ``times`` generation updates of one provider with MySQL's deadlock error."""

    def __init__(self) -> None:
        self.provider_id: int | None = None
        self.times = 0
        self.raised = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if (self.times > self.raised and statement.startswith("UPDATE resource_provider SET generation")
                and self.provider_id in _values(parameters)):
            self.raised += 1
            raise sa.exc.OperationalError(statement, parameters,
                                          Exception(1213, "Deadlock found when trying to get lock; try restarting "
                                                          "transaction"))


def _values(parameters: Any) -> list[Any]:
    if isinstance(parameters, dict):
        return list(parameters.values())
    return list(parameters or ())


@pytest.fixture
def deadlocks() -> Iterator[_Deadlocks]:
    injected = _Deadlocks()
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", injected)
    try:
        yield injected
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", injected)


def _provider_row_id(cloud: Cloud, rp_uuid: str) -> int:
    engine = sa.create_engine(cloud.aio.runtime.conf.database.connection)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT id FROM resource_provider WHERE uuid = :u"), {"u": rp_uuid})
                       .scalar_one())
    finally:
        engine.dispose()


def _deadlocking_provider(cloud: Cloud, deadlocks: _Deadlocks, times: int) -> tuple[Any, dict[str, Any]]:
    """(placement client, a new provider) whose next ``times`` generation updates deadlock."""
    api = placement_client(cloud)
    rp = api.post("/resource_providers", json={"name": f"dl-{uuid.uuid4().hex[:8]}"}).json()
    deadlocks.provider_id = _provider_row_id(cloud, rp["uuid"])
    deadlocks.times = times
    return api, rp


def test_inventory_update_that_lost_a_deadlock_is_run_again(cloud: Cloud, deadlocks: _Deadlocks) -> None:
    api, rp = _deadlocking_provider(cloud, deadlocks, 2)
    resp = api.put(f"/resource_providers/{rp['uuid']}/inventories", json={
        "resource_provider_generation": rp["generation"], "inventories": {"VCPU": {"total": 4}}})
    assert deadlocks.raised == 2
    assert resp.status_code == 200, resp.text
    assert resp.json()["resource_provider_generation"] == rp["generation"] + 1
    assert api.get(f"/resource_providers/{rp['uuid']}/inventories").json()["inventories"]["VCPU"]["total"] == 4


def test_a_write_that_keeps_deadlocking_is_a_concurrent_update_conflict(cloud: Cloud,
                                                                       deadlocks: _Deadlocks) -> None:
    api, rp = _deadlocking_provider(cloud, deadlocks, 1000)
    resp = api.put(f"/resource_providers/{rp['uuid']}/traits", json={
        "resource_provider_generation": rp["generation"], "traits": ["HW_CPU_X86_AVX2"]})
    assert deadlocks.raised > 1  # tried again before giving up
    assert resp.status_code == 409, resp.text
    assert resp.json()["errors"][0]["code"] == "placement.concurrent_update"
    deadlocks.times = 0
    assert api.get(f"/resource_providers/{rp['uuid']}/traits").json()["traits"] == []


class _ConsumerCreatedMeanwhile:
    """Before the first INSERT of consumer ``uuid``, another connection creates and commits that consumer:
    what a client's retry of the same claim, running alongside it, does."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.uuid = ""
        self.done = False

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.done or not statement.startswith("INSERT INTO consumer ") or self.uuid not in _values(parameters):
            return
        self.done = True
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO consumer (uuid, project_id, user_id, generation) "
                                     "VALUES (:u, 'p', 'u', 0)"), {"u": self.uuid})
        finally:
            engine.dispose()


@pytest.mark.parametrize("version, status", [("1.28", 409), ("1.12", 204)])
def test_a_claim_whose_consumer_another_request_created_meanwhile_is_no_500(cloud: Cloud, version: str,
                                                                            status: int) -> None:
    if cloud.aio.runtime.conf.database.connection.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: no other transaction can create the consumer mid-claim")
    admin = placement_client(cloud)
    rp = admin.post("/resource_providers", json={"name": f"cc-{uuid.uuid4().hex[:8]}"}).json()
    admin.put(f"/resource_providers/{rp['uuid']}/inventories", json={
        "resource_provider_generation": rp["generation"], "inventories": {"VCPU": {"total": 4}}})
    racer = _ConsumerCreatedMeanwhile(cloud.aio.runtime.conf.database.connection)
    racer.uuid = str(uuid.uuid4())
    body: dict[str, Any] = {"allocations": {rp["uuid"]: {"resources": {"VCPU": 1}}},
                            "project_id": "p", "user_id": "u"}
    if version == "1.28":
        body["consumer_generation"] = None  # "a new consumer": it no longer is
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", racer)
    try:
        resp = placement_client(cloud, version).put(f"/allocations/{racer.uuid}", json=body)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", racer)
    assert racer.done
    assert resp.status_code == status, resp.text
    if status == 409:
        assert resp.json()["errors"][0]["code"] == "placement.concurrent_update"
    held = admin.get(f"/allocations/{racer.uuid}").json()["allocations"]
    assert {k: v["resources"] for k, v in held.items()} == ({} if status == 409 else {rp["uuid"]: {"VCPU": 1}})
