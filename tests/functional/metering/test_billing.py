"""Metering and billing on a whole cloud (fake driver) under a clock the test controls.

Servers are booted, resized, stopped, started, shelved and deleted at chosen times; the metering service
learns of it from compute's versioned notifications only, and the usage and cost it reports are checked to
the cent, against ``os-simple-tenant-usage`` for instance hours, after a redelivery of every notification,
after a restart of the core, and by an audit that never saw a notification.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import oslo_messaging
import pytest
import requests
from oslo_utils import timeutils

from nubis.cmd import manage
from nubis.common.db import types
from nubis.metering import service as metering_service
from nubis.metering.core.collector import Listener
from nubis.metering.core.facade import MeteringCore
from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import CONFIG as COMPUTE_CONFIG

SERVICES = ["image", "placement", "scheduler", "compute-api", "conductor", "compute", "network", "metering"]
# Tomorrow's midnight (UTC): the test's clock must stay ahead of the real one, since a few parts of the cloud
# (the scheduler's view of host reports) compare with the real time.
T0 = (datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(days=1)).replace(
    hour=0, minute=0, second=0, microsecond=0)
DAY = T0.strftime("%Y-%m-%d")
MONTH = T0.strftime("%Y-%m")
TARIFFS = ("instance.running/m.small=0.0133,instance.running/m.medium=0.0266,vcpu=0.011,ram_gb=0.0045,"
           "disk_gb=0.0002,instance=0.001,floating_ip=0.0045,router_gateway=0.01")


class ControlledClock:
    """Naive UTC time that moves only when the test says: every service's ``types.utcnow`` and oslo's
    ``timeutils.utcnow`` (notification timestamps) read it."""

    def __init__(self, start: datetime.datetime) -> None:
        self.now = start
        self.backend = "sqlite"
        timeutils.set_time_override(start)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)
        timeutils.set_time_override(self.now)


class Notes:
    """Every versioned notification, as a second listener pool receives it (to replay them)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.lock = threading.Lock()

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: dict[str, Any],
             metadata: dict[str, Any]) -> None:
        with self.lock:
            self.seen.append((event_type, payload, metadata))


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def clock(request: Any) -> Iterator[ControlledClock]:
    """The clock, from T0 again for each database backend (and RabbitMQ, when the environment names one)."""
    with pytest.MonkeyPatch.context() as mp:
        c = ControlledClock(T0)
        c.backend = request.param
        mp.setattr(types, "utcnow", c)
        try:
            yield c
        finally:
            timeutils.clear_time_override()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: Any, clock: ControlledClock) -> Iterator[cloud_fixture.Cloud]:
    tmp = tmp_path_factory.mktemp("metering")
    metering = {"tariffs": TARIFFS, "audit_interval": "0", "rollup_interval": "1"}
    with fixtures.backend_config(clock.backend, str(tmp)) as backend, \
            cloud_fixture.running_cloud(tmp, SERVICES, extra_config={**COMPUTE_CONFIG, **backend,
                                                                    "metering": metering}) as c:
        yield c


@contextlib.contextmanager
def listening(cloud: cloud_fixture.Cloud, sink: Any, pool: str) -> Iterator[None]:
    """``sink.info`` gets every versioned notification of ``cloud`` while the block runs, through a listener
    pool of its own (the metering collector's pool still gets them all)."""
    messaging = cloud.aio.runtime.messaging  # type: ignore[union-attr]
    listener = oslo_messaging.get_notification_listener(
        messaging.notification_transport, [oslo_messaging.Target(topic="versioned_notifications")], [sink],
        executor="threading", pool=pool)
    listener.start()
    try:
        yield
    finally:
        listener.stop()
        listener.wait()


@pytest.fixture(scope="module")
def notes(cloud: cloud_fixture.Cloud) -> Iterator[Notes]:
    found = Notes()
    with listening(cloud, found, "metering-test-replay"):
        yield found


def core_of(cloud: cloud_fixture.Cloud) -> MeteringCore:
    """A metering core on the running service's database (what a restarted service would build)."""
    assert cloud.aio.runtime is not None
    return metering_service.build_core(cloud.aio.runtime)


def wait_metered(core: MeteringCore, server_id: str, event_type: str) -> None:
    fixtures.wait_until(lambda: event_type in core.ledger.events(server_id), timeout=30,
                        what=lambda: f"{event_type} of {server_id} metered; seen {core.ledger.events(server_id)}")


def wait_status(conn: Any, server_id: str, status: str) -> Any:
    return fixtures.wait_until(lambda: (s := conn.compute.get_server(server_id)).status == status and s,
                               timeout=60, what=f"server {server_id} to be {status}")


def delete(conn: Any, server_id: str) -> None:
    conn.compute.delete_server(server_id)
    fixtures.wait_until(lambda: conn.compute.find_server(server_id, ignore_missing=True) is None, timeout=60,
                        what=f"server {server_id} to be deleted")


def advance(cloud: cloud_fixture.Cloud, clock: ControlledClock, hours: float) -> None:
    """Move the clock on, then wait until the compute host has reported since (it looks down meanwhile)."""
    clock.advance(hours=hours)
    conn = cloud.connection()
    fixtures.wait_until(lambda: all(s.state == "up" for s in conn.compute.services() if s.binary == "nova-compute"),
                        timeout=30, what="the compute service to report at the new time")


def usage(cloud: cloud_fixture.Cloud, creds: cloud_fixture.Credentials | None, project_id: str,
          **params: str) -> requests.Response:
    token = cloud.connection(creds).session.get_token()
    return requests.get(f"{cloud.url('metering')}/v1/usage/{project_id}", params=params,
                        headers={"X-Auth-Token": token}, timeout=30)


def lines_of(body: dict[str, Any]) -> dict[tuple[str, str | None], tuple[str, str, str]]:
    return {(line["meter"], line["flavor"]): (line["quantity"], line["price"], line["cost"])
            for line in body["lines"]}


EXPECTED = {
    # A: m.small 00:00-02:00, m.medium 02:00-09:30 (stopped 05:00-06:30, shelved 07:30-09:30);
    # B: m.small 02:00-06:30, running throughout.
    ("instance", "m.small"): ("6.500000", "0.001", "0.01"),        # 0.0065
    ("instance", "m.medium"): ("7.500000", "0.005", "0.04"),       # project tariff via the API: 0.0375
    ("instance.running", "m.small"): ("6.500000", "0.0133", "0.09"),   # 0.08645
    ("instance.running", "m.medium"): ("4.000000", "0.0266", "0.11"),  # 0.1064
    ("vcpu", None): ("21.500000", "0.011", "0.24"),                # 2*1 + 7.5*2 + 4.5*1 = 21.5; 0.2365
    ("ram_gb", None): ("10.750000", "0.0045", "0.05"),             # (2*512 + 7.5*1024 + 4.5*512)/1024; 0.048375
    ("disk_gb", None): ("21.500000", "0.0002", "0.00"),            # 0.0043
}


@pytest.mark.usefixtures("restore_logging")  # nubis-manage runs in-process and sets logging up for itself
def test_usage_and_cost_to_the_cent(cloud: cloud_fixture.Cloud, clock: ControlledClock, notes: Notes,
                                    tmp_path: Any) -> None:
    admin = cloud.connection()
    small = admin.compute.create_flavor(name="m.small", ram=512, vcpus=1, disk=1)
    medium = admin.compute.create_flavor(name="m.medium", ram=1024, vcpus=2, disk=2)
    image = admin.image.create_image(name="metered", disk_format="raw", container_format="bare",
                                     data=io.BytesIO(b"\0" * 4096), visibility="public")
    creds = cloud.new_user(roles=("member", "reader"), prefix="billed")
    conn = cloud.connection(creds)
    core = core_of(cloud)
    api = f"{cloud.url('metering')}/v1"
    admin_headers = {"X-Auth-Token": admin.session.get_token()}
    made = requests.post(f"{api}/tariffs", json={"tariff": {"meter": "instance", "flavor": "m.medium",
                                                            "project_id": creds.project_id, "price": "0.005"}},
                         headers=admin_headers, timeout=30)
    assert made.status_code == 201, made.text
    member_headers = {"X-Auth-Token": conn.session.get_token()}
    refused = requests.post(f"{api}/tariffs", json={"tariff": {"meter": "vcpu", "price": "0"}},
                            headers=member_headers, timeout=30)
    assert refused.status_code == 403

    # 00:00 boot A (small)
    a = wait_status(conn, conn.compute.create_server(name="a", image_id=image.id, flavor_id=small.id,
                                                     networks="none").id, "ACTIVE")
    wait_metered(core, a.id, "instance.create.end")
    # 02:00 resize A to medium (confirmed); boot B (small)
    advance(cloud, clock, 2)
    conn.compute.resize_server(a.id, medium.id)
    wait_status(conn, a.id, "VERIFY_RESIZE")
    conn.compute.confirm_server_resize(a.id)
    wait_status(conn, a.id, "ACTIVE")
    wait_metered(core, a.id, "instance.resize.end")
    b = wait_status(conn, conn.compute.create_server(name="b", image_id=image.id, flavor_id=small.id,
                                                     networks="none").id, "ACTIVE")
    wait_metered(core, b.id, "instance.create.end")
    # 05:00 stop A. Halfway there, at 03:30, the open spans already count.
    advance(cloud, clock, 1.5)
    live = usage(cloud, creds, creds.project_id, start=f"{DAY}T00:00:00", end=f"{DAY}T12:00:00")
    assert live.status_code == 200, live.text
    assert lines_of(live.json()["usage"])[("instance", "m.medium")][0] == "1.500000"
    assert lines_of(live.json()["usage"])[("instance", "m.small")][0] == "3.500000"
    advance(cloud, clock, 1.5)
    conn.compute.stop_server(a.id)
    wait_status(conn, a.id, "SHUTOFF")
    wait_metered(core, a.id, "instance.stop.end")
    # 06:30 start A; delete B
    advance(cloud, clock, 1.5)
    conn.compute.start_server(a.id)
    wait_status(conn, a.id, "ACTIVE")
    wait_metered(core, a.id, "instance.start.end")
    delete(conn, b.id)
    wait_metered(core, b.id, "instance.delete.end")
    # 07:30 shelve A (offloaded at once)
    advance(cloud, clock, 1)
    conn.compute.shelve_server(a.id)
    wait_status(conn, a.id, "SHELVED_OFFLOADED")
    wait_metered(core, a.id, "instance.shelve_offload.end")
    # 09:30 delete A; the bill is then final
    advance(cloud, clock, 2)
    delete(conn, a.id)
    wait_metered(core, a.id, "instance.delete.end")
    # 11:00: the finished hours are closed into records
    advance(cloud, clock, 1.5)
    fixtures.wait_until(lambda: core.ledger.open_resources() == [] or all(
        r.since >= T0 + datetime.timedelta(hours=11) for r in core.ledger.open_resources()), timeout=10)

    resp = usage(cloud, creds, creds.project_id, start=f"{DAY}T00:00:00", end=f"{DAY}T12:00:00")
    assert resp.status_code == 200, resp.text
    body = resp.json()["usage"]
    assert lines_of(body) == EXPECTED
    assert body["total"] == "0.54" and body["currency"] == "EUR"
    assert Decimal(body["total"]) == sum(Decimal(line["cost"]) for line in body["lines"])
    # The month gives the same bill.
    month = usage(cloud, creds, creds.project_id, period=MONTH).json()["usage"]
    assert lines_of(month) == EXPECTED and month["total"] == "0.54"

    # os-simple-tenant-usage agrees on instance hours (it prices every hour at the current flavor, so only
    # the hours are comparable).
    tenant = requests.get(f"{cloud.url('compute-api')}/v2.1/os-simple-tenant-usage/{creds.project_id}",
                          params={"start": f"{DAY}T00:00:00", "end": f"{DAY}T12:00:00"},
                          headers=admin_headers, timeout=30).json()["tenant_usage"]
    metered_hours = sum(Decimal(line["quantity"]) for line in body["lines"] if line["meter"] == "instance")
    assert Decimal(str(tenant["total_hours"])) == metered_hours == Decimal(14)

    # Every notification delivered again: nothing changes.
    replayed = [core.collector.handle(e, p, m) for e, p, m in list(notes.seen)]
    assert replayed and not any(replayed)
    assert lines_of(core.usage(core.period(None, f"{DAY}T00:00:00", f"{DAY}T12:00:00"),
                               creds.project_id)[0]) == EXPECTED
    # A restarted core (a new process on the same database) reports the same.
    again = core_of(cloud)
    assert again.usage(core.period(MONTH, None, None), creds.project_id)[0]["total"] == "0.54"

    # Export for invoicing, as nubis-manage does it.
    conf_file = f"{cloud.aio.state_dir}/all-in-one.conf"
    out = tmp_path / "usage.csv"
    assert manage.main(["--config-file", conf_file, "usage", "export", "--period", MONTH, "--format", "csv",
                        "--output", str(out)]) == 0
    rows = [r for r in csv.DictReader(out.open()) if r["project_id"] == creds.project_id]
    assert sum(Decimal(r["cost"]) for r in rows) == Decimal("0.54")
    assert {(r["meter"], r["flavor"] or None): (r["quantity"], r["price"], r["cost"]) for r in rows} == EXPECTED
    out_json = tmp_path / "usage.json"
    assert manage.main(["--config-file", conf_file, "usage", "export", "--period", MONTH, "--format", "json",
                        "--output", str(out_json)]) == 0
    exported = {u["project_id"]: u for u in json.loads(out_json.read_text())["usages"]}
    assert exported[creds.project_id]["total"] == "0.54"


def test_the_audit_meters_what_no_notification_told(cloud: cloud_fixture.Cloud, clock: ControlledClock,
                                                    tmp_path: Any) -> None:
    """A core on an empty database (every notification missed) learns servers from the compute API: a live
    one from its launch, a deleted one closed at its termination."""
    assert cloud.aio.runtime is not None
    conf = cloud.aio.runtime.conf
    blind = MeteringCore(conf, _scratch_db(tmp_path), core_of(cloud).sources)
    admin = cloud.connection()
    flavor = admin.compute.find_flavor("m.small")
    image = admin.image.find_image("metered")
    creds = cloud.new_user(roles=("member", "reader"), prefix="audited")
    conn = cloud.connection(creds)
    start = clock.now
    server = wait_status(conn, conn.compute.create_server(name="c", image_id=image.id, flavor_id=flavor.id,
                                                          networks="none").id, "ACTIVE")
    advance(cloud, clock, 1)
    assert blind.audit().opened >= 2  # the server, the image (images are metered by the audit only)
    metered_image = blind.ledger.get(image.id)
    assert metered_image is not None and metered_image.size_bytes == 4096 and metered_image.state == "active"
    advance(cloud, clock, 2)
    delete(conn, server.id)
    advance(cloud, clock, 0.5)
    assert blind.audit().closed == 1
    period = blind.period(None, start.isoformat(), (start + datetime.timedelta(hours=5)).isoformat())
    lines = lines_of(blind.usage(period, creds.project_id)[0])
    assert lines[("instance", "m.small")][0] == "3.000000"
    assert lines[("instance.running", "m.small")][0] == "3.000000"


def _scratch_db(tmp_path: Any) -> Any:
    from nubis.common.db import migration
    from nubis.common.db.engine import Database
    from nubis.metering import db

    database = Database(f"sqlite:///{tmp_path}/blind.sqlite")
    migration.upgrade(database, db.migration_repo())
    return database


def test_usage_policy_and_bad_input(cloud: cloud_fixture.Cloud) -> None:
    mine = cloud.new_user(roles=("member", "reader"), prefix="own")
    other = cloud.new_user(roles=("member", "reader"), prefix="other")
    assert usage(cloud, mine, mine.project_id, period="2026-11").status_code == 200
    assert usage(cloud, other, mine.project_id, period="2026-11").status_code == 403
    assert usage(cloud, None, mine.project_id, period="2026-11").status_code == 200
    for params, word in (({"period": "2026-13"}, "period"), ({"period": "Nov"}, "period"),
                         ({"period": "9999-12"}, "period"),
                         ({"start": "2026-11-01T00:30:00", "end": "2026-11-02T00:00:00"}, "on the hour"),
                         ({"start": "2026-11-02T00:00:00", "end": "2026-11-01T00:00:00"}, "after"),
                         ({"start": "yesterday", "end": "2026-11-01T00:00:00"}, "ISO 8601"),
                         ({}, "period")):
        resp = usage(cloud, mine, mine.project_id, **params)
        assert resp.status_code == 400 and word in resp.text, (params, resp.text)
    headers = {"X-Auth-Token": cloud.connection().session.get_token()}
    api = f"{cloud.url('metering')}/v1/tariffs"
    for tariff, word in (({"meter": "bandwidth", "price": "1"}, "meter"), ({"meter": "vcpu", "price": "-1"}, "price"),
                         ({"meter": "vcpu", "price": 0.1}, "price"),
                         ({"meter": "vcpu", "flavor": "m.small", "price": "1"}, "per-flavor")):
        resp = requests.post(api, json={"tariff": tariff}, headers=headers, timeout=30)
        assert resp.status_code == 400 and word in resp.text, (tariff, resp.text)
    listed = requests.get(api, headers={"X-Auth-Token": cloud.connection(mine).session.get_token()}, timeout=30)
    assert listed.status_code == 200
    assert {"meter": "vcpu", "flavor": None, "project_id": None, "price": "0.011", "source": "config",
            "id": None} in listed.json()["tariffs"]
    made = requests.post(api, json={"tariff": {"meter": "floating_ip", "price": "0.004"}}, headers=headers, timeout=30)
    assert made.status_code == 201
    again = requests.post(api, json={"tariff": {"meter": "floating_ip", "price": "0.005"}}, headers=headers,
                          timeout=30)
    assert again.status_code == 409
    tid = made.json()["tariff"]["id"]
    assert requests.delete(f"{api}/{tid}", headers=headers, timeout=30).status_code == 204
    assert requests.delete(f"{api}/{tid}", headers=headers, timeout=30).status_code == 404


def test_floating_ip_and_gateway_hours_from_network_notifications(cloud: cloud_fixture.Cloud, clock: ControlledClock) -> None:
    admin = cloud.connection()
    public = admin.network.create_network(name="public-metered", is_router_external=True)
    admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="203.0.113.0/24", name="public-v4")
    creds = cloud.new_user(roles=("member", "reader"), prefix="fip")
    conn = cloud.connection(creds)
    core = core_of(cloud)
    start = clock.now
    fip = conn.network.create_ip(floating_network_id=public.id)
    router = conn.network.create_router(name="metered", external_gateway_info={"network_id": public.id})
    fixtures.wait_until(lambda: "floatingip.create.end" in core.ledger.events(fip.id)
                        and "router.create.end" in core.ledger.events(router.id), timeout=30,
                        what="the floating IP's and the router's creation metered")
    advance(cloud, clock, 2.5)
    conn.network.delete_ip(fip)
    conn.network.update_router(router, external_gateway_info={})
    fixtures.wait_until(lambda: "floatingip.delete.end" in core.ledger.events(fip.id)
                        and "router.update.end" in core.ledger.events(router.id), timeout=30,
                        what="the floating IP's deletion and the gateway's removal metered")
    advance(cloud, clock, 1)
    period = {"start": start.replace(minute=0, second=0).isoformat(),
              "end": (start.replace(minute=0, second=0) + datetime.timedelta(hours=5)).isoformat()}
    body = usage(cloud, creds, creds.project_id, **period).json()["usage"]
    # 2.5 h at 0.0045 = 0.01125 -> 0.01; 2.5 h at 0.01 = 0.025 -> 0.03 (half up)
    assert lines_of(body) == {("floating_ip", None): ("2.500000", "0.0045", "0.01"),
                              ("router_gateway", None): ("2.500000", "0.01", "0.03")}
    assert body["total"] == "0.04"


def test_a_restarted_collector_counts_what_happened_while_it_was_down(cloud: cloud_fixture.Cloud,
                                                                      clock: ControlledClock) -> None:
    """Notifications wait in the collector's pool while it is stopped; read later, they count at the times
    they carry, not when they are read."""
    aio = cloud.aio
    assert aio.runtime is not None
    running = [r for r in aio.running if isinstance(r, Listener)]
    assert len(running) == 1
    running[0].stop()
    aio.running.remove(running[0])
    admin = cloud.connection()
    flavor = admin.compute.find_flavor("m.small")
    image = admin.image.find_image("metered")
    creds = cloud.new_user(roles=("member", "reader"), prefix="restart")
    conn = cloud.connection(creds)
    start = clock.now
    server = wait_status(conn, conn.compute.create_server(name="d", image_id=image.id, flavor_id=flavor.id,
                                                          networks="none").id, "ACTIVE")
    advance(cloud, clock, 2)
    delete(conn, server.id)
    advance(cloud, clock, 3)
    core = core_of(cloud)
    assert core.ledger.events(server.id) == []
    restarted = Listener(aio.runtime.messaging, aio.runtime.conf.metering.notification_pool, core.collector).start()
    aio.running.append(restarted)
    wait_metered(core, server.id, "instance.delete.end")
    hour = start.replace(minute=0, second=0)
    lines = lines_of(core.usage(core.period(None, hour.isoformat(), (hour + datetime.timedelta(hours=8)).isoformat()),
                                creds.project_id)[0])
    assert lines[("instance", "m.small")][0] == "2.000000"
    assert lines[("instance.running", "m.small")][0] == "2.000000"
