"""Service version records through a running cloud: heartbeats record them, ``auto`` caps by the oldest."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from nubis import version
from nubis.common import exceptions, rpc
from nubis.common.context import RequestContext
from nubis.compute.agent.rpcapi import ComputeAgentAPI, ComputeAgentEndpoint
from nubis.compute.db.models import Service
from nubis.compute.service_versions import ServiceVersions
from nubis.scheduler.request_spec import Flavor, RequestSpec
from nubis.scheduler.rpcapi import SchedulerAPI
from tests import fixtures
from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status


def test_a_boot_goes_through_the_versioned_request_spec(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = boot(cloud, image_id, flavor_id)
    try:
        assert wait_for_status(conn, server.id, "ACTIVE").status == "ACTIVE"
    finally:
        conn.compute.delete_server(server.id)


def test_every_compute_records_its_release_and_rpc_version(cloud: ComputeCloud) -> None:
    assert cloud.aio.runtime is not None
    records = ServiceVersions(cloud.aio.runtime.database("compute"))

    def all_recorded() -> list[dict[str, object]] | None:
        rows = [r for r in records.rows() if r["binary"] == "nubis-compute"]
        return rows if len(rows) == 3 and all(r["release"] for r in rows) else None

    rows = fixtures.wait_until(all_recorded, timeout=15, what="three computes with version records")
    assert {r["release"] for r in rows} == {version.VERSION}
    current = ComputeAgentEndpoint.target.version
    assert {r["rpc"]["compute"] for r in rows} == {current}  # type: ignore[index]
    assert records.minimum("compute") == current
    assert records.minimum("scheduler") is None  # schedulers do not heartbeat here


@pytest.fixture
def old_compute(cloud: ComputeCloud):  # type: ignore[no-untyped-def]
    """A compute that recorded an older RPC version (what an N-1 host would have recorded)."""
    assert cloud.aio.runtime is not None
    db = cloud.aio.runtime.database("compute")
    with db.writer() as s:
        s.add(Service(host="old-host", binary="nubis-compute",
                      versions={"release": "0.0.9", "rpc": {"compute": "1.0"}}))
    yield db
    with db.writer() as s:
        s.execute(sa.delete(Service).where(Service.host == "old-host"))


def test_auto_caps_at_the_oldest_compute_and_refuses_what_it_cannot_do(cloud: ComputeCloud, old_compute) -> None:  # type: ignore[no-untyped-def]
    assert cloud.aio.runtime is not None
    records = ServiceVersions(old_compute)
    assert records.minimum("compute") == "1.0"
    # A row with no record at all is a 0.1 service (it predates the records): 0.1 served compute 1.1.
    with old_compute.writer() as s:
        s.scalar(sa.select(Service).where(Service.host == "old-host")).versions = None
    assert records.minimum("compute") == "1.1"
    with old_compute.writer() as s:
        s.scalar(sa.select(Service).where(Service.host == "old-host")).versions = {"rpc": {"compute": "1.0"},
                                                                                    "release": "0.0.9"}
    messaging = rpc.Messaging(cloud.aio.runtime.conf)
    messaging.conf.set_override("compute", "auto", group="upgrade_levels")
    messaging.minimum_version = records.minimum
    try:
        agents = ComputeAgentAPI(messaging)
        assert agents.version_cap == "1.0"
        with pytest.raises(exceptions.ServiceTooOld):
            agents.shelve_instance(RequestContext(), "old-host", "u-1", "img-1")
    finally:
        messaging.conf.clear_override("compute", group="upgrade_levels")
        messaging.cleanup()


def test_the_scheduler_answers_a_client_capped_at_the_old_release_alike(cloud: ComputeCloud) -> None:
    """The real scheduler (RPC 1.2) takes 0.1's dict form (1.0) and gives the answer the object form gets."""
    assert cloud.aio.runtime is not None
    spec = RequestSpec(flavor=Flavor("explain", 1, 64), project_id="p1", user_id="u1")
    messaging = rpc.Messaging(cloud.aio.runtime.conf)
    try:
        new = SchedulerAPI(messaging)
        messaging.conf.set_override("scheduler", "nubis-0.1", group="upgrade_levels")
        try:
            old = SchedulerAPI(messaging)
        finally:
            messaging.conf.clear_override("scheduler", group="upgrade_levels")
        assert (new.version_cap, old.version_cap) == (None, "1.1")
        ctx = RequestContext(is_admin=True)
        answer = new.explain(ctx, spec)
        assert answer == old.explain(ctx, spec)
        assert answer, "the scheduler knows the cloud's hosts"
    finally:
        messaging.cleanup()
