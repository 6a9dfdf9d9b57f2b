"""Volume and snapshot GiB-hours, metered from the volume service's Cinder-shaped notifications under a clock the
test controls, checked to the cent; then redelivered, and audited by a core that never saw a notification."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import requests

from nubis.common.db import migration, types
from nubis.common.db.engine import Database
from nubis.metering import db as metering_db
from nubis.metering import service as metering_service
from nubis.metering.core.facade import MeteringCore
from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.metering.test_billing import ControlledClock, lines_of, listening

SERVICES = ["volume", "volume-manager", "metering"]
# Tomorrow's midnight: ahead of the real clock (the volume hosts' heartbeats are compared with it).
T0 = (datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(days=1)).replace(
    hour=0, minute=0, second=0, microsecond=0)
DAY = T0.strftime("%Y-%m-%d")
TARIFFS = "volume=0.0125,snapshot=0.005"


class Notes:
    """Every notification on the versioned topic, as a second listener pool receives it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.lock = threading.Lock()

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: dict[str, Any],
             metadata: dict[str, Any]) -> None:
        with self.lock:
            self.seen.append((event_type, {**payload, "_publisher": publisher_id}, metadata))


_CLOCKS: list[ControlledClock] = []


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def clock(request: Any) -> Iterator[ControlledClock]:
    """One clock for every backend, set back to T0 for each: a column default imported while it was
    patched in (``default=types.utcnow``) keeps reading this very clock."""
    with pytest.MonkeyPatch.context() as mp:
        if not _CLOCKS:
            _CLOCKS.append(ControlledClock(T0))
        c = _CLOCKS[0]
        c.now = T0
        c.advance(hours=0)
        c.backend = request.param
        mp.setattr(types, "utcnow", c)
        try:
            yield c
        finally:
            from oslo_utils import timeutils

            timeutils.clear_time_override()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: Any, clock: ControlledClock) -> Iterator[cloud_fixture.Cloud]:
    tmp = tmp_path_factory.mktemp("volume-metering")
    extra = {"identity": {"password_hash_rounds": "4"}, "volume": {"report_interval": "1"},
             "metering": {"tariffs": TARIFFS, "audit_interval": "0", "rollup_interval": "1"}}
    with fixtures.backend_config(clock.backend, str(tmp)) as backend, \
            cloud_fixture.running_cloud(tmp, SERVICES, extra_config={**extra, **backend}) as c:
        yield c


@pytest.fixture(scope="module")
def notes(cloud: cloud_fixture.Cloud) -> Iterator[Notes]:
    found = Notes()
    with listening(cloud, found, "volume-metering-test-replay"):
        yield found


class Volumes:
    """``/v3/{project}`` calls as one user."""

    def __init__(self, cloud: cloud_fixture.Cloud, creds: cloud_fixture.Credentials) -> None:
        conn = cloud.connection(creds)
        self.headers = {"X-Auth-Token": conn.session.get_token()}
        self.base = f"{cloud.url('volume')}/v3/{conn.session.get_project_id()}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        resp = requests.request(method, self.base + path, json=body, headers=self.headers, timeout=30)
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def status(self, kind: str, ident: str) -> str | None:
        resp = requests.get(f"{self.base}/{kind}s/{ident}", headers=self.headers, timeout=30)
        return None if resp.status_code == 404 else resp.json()[kind]["status"]

    def wait(self, kind: str, ident: str, status: str | None) -> None:
        fixtures.wait_until(lambda: self.status(kind, ident) == status, timeout=30,
                            what=f"{kind} {ident} to be {status or 'gone'}")


def core_of(cloud: cloud_fixture.Cloud) -> MeteringCore:
    assert cloud.aio.runtime is not None
    return metering_service.build_core(cloud.aio.runtime)


def wait_metered(core: MeteringCore, resource_id: str, event_type: str) -> None:
    fixtures.wait_until(lambda: event_type in core.ledger.events(resource_id), timeout=30,
                        what=lambda: f"{event_type} of {resource_id} metered; seen {core.ledger.events(resource_id)}")


def advance(cloud: cloud_fixture.Cloud, clock: ControlledClock, hours: float) -> None:
    """Move the clock on, then wait until the storage host has reported since (it looks down meanwhile)."""
    clock.advance(hours=hours)
    conn = cloud.connection()
    token = conn.session.get_token()
    url = f"{cloud.url('volume')}/v3/{conn.session.get_project_id()}/os-services"
    fixtures.wait_until(lambda: all(s["state"] == "up" for s in requests.get(
        url, headers={"X-Auth-Token": token}, timeout=30).json()["services"]), timeout=30,
        what="the volume host to report at the new time")


def usage(cloud: cloud_fixture.Cloud, creds: cloud_fixture.Credentials, hours: int) -> dict[str, Any]:
    token = cloud.connection(creds).session.get_token()
    resp = requests.get(f"{cloud.url('metering')}/v1/usage/{creds.project_id}",
                        params={"start": T0.isoformat(), "end": (T0 + datetime.timedelta(hours=hours)).isoformat()},
                        headers={"X-Auth-Token": token}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["usage"]  # type: ignore[no-any-return]


EXPECTED = {
    # A: 2 GiB 00:00-03:00, 5 GiB 03:00-06:00 = 21 GiB-h at 0.0125 = 0.2625 -> 0.26
    ("volume", None): ("21.000000", "0.0125", "0.26"),
    # S (of A, 2 GiB): 01:00-04:30 = 7 GiB-h at 0.005 = 0.035 -> 0.04 (half up)
    ("snapshot", None): ("7.000000", "0.005", "0.04"),
}


def test_volume_and_snapshot_gib_hours_to_the_cent(cloud: cloud_fixture.Cloud, clock: ControlledClock,
                                                   notes: Notes, tmp_path: Any) -> None:
    creds = cloud.new_user(roles=("member", "reader"), prefix="vol-billed")
    vols = Volumes(cloud, creds)
    core = core_of(cloud)
    # 00:00 a 2 GiB volume
    a = vols.call("POST", "/volumes", {"volume": {"size": 2, "name": "a"}})["volume"]
    vols.wait("volume", a["id"], "available")
    wait_metered(core, a["id"], "volume.create.end")
    # 01:00 its snapshot
    advance(cloud, clock, 1)
    s = vols.call("POST", "/snapshots", {"snapshot": {"volume_id": a["id"], "name": "s"}})["snapshot"]
    vols.wait("snapshot", s["id"], "available")
    wait_metered(core, s["id"], "snapshot.create.end")
    # 03:00 the volume grows to 5 GiB
    advance(cloud, clock, 2)
    vols.call("POST", f"/volumes/{a['id']}/action", {"os-extend": {"new_size": 5}})
    fixtures.wait_until(lambda: vols.call("GET", f"/volumes/{a['id']}")["volume"]["size"] == 5, timeout=30,
                        what="the extend")
    wait_metered(core, a["id"], "volume.resize.end")
    # 04:30 the snapshot goes; halfway, the open spans already count
    advance(cloud, clock, 1.5)
    live = lines_of(usage(cloud, creds, 8))
    assert live[("volume", None)][0] == "13.500000" and live[("snapshot", None)][0] == "7.000000"
    vols.call("DELETE", f"/snapshots/{s['id']}")
    vols.wait("snapshot", s["id"], None)
    wait_metered(core, s["id"], "snapshot.delete.end")
    # 06:00 the volume goes
    advance(cloud, clock, 1.5)
    vols.call("DELETE", f"/volumes/{a['id']}")
    vols.wait("volume", a["id"], None)
    wait_metered(core, a["id"], "volume.delete.end")
    # 08:00: nothing open any more
    advance(cloud, clock, 2)
    body = usage(cloud, creds, 8)
    assert lines_of(body) == EXPECTED
    assert body["total"] == "0.30"

    # What was sent: Cinder's events and payloads, from publisher volume.<host>.
    sent = {(e, p.get("volume_id"), p.get("snapshot_id")): p for e, p, _ in notes.seen
            if p.get("tenant_id") == creds.project_id}
    assert set(sent) == {("volume.create.end", a["id"], None), ("snapshot.create.end", a["id"], s["id"]),
                         ("volume.resize.end", a["id"], None), ("snapshot.delete.end", a["id"], s["id"]),
                         ("volume.delete.end", a["id"], None)}
    assert sent[("volume.resize.end", a["id"], None)]["size"] == 5
    assert sent[("snapshot.create.end", a["id"], s["id"])]["volume_size"] == 2
    assert all(p["_publisher"].startswith("volume.") for p in sent.values())

    # Every notification delivered again: nothing changes; a restarted core reports the same.
    replayed = [core.collector.handle(e, {k: v for k, v in p.items() if k != "_publisher"}, m)
                for e, p, m in list(notes.seen)]
    assert replayed and not any(replayed)
    assert lines_of(core_of(cloud).usage(core.period(None, T0.isoformat(),
                                                     (T0 + datetime.timedelta(hours=8)).isoformat()),
                                         creds.project_id)[0]) == EXPECTED


def test_the_audit_meters_volumes_no_notification_told(cloud: cloud_fixture.Cloud, clock: ControlledClock,
                                                       tmp_path: Any) -> None:
    """A core on an empty database learns volumes and snapshots from the volume API: from their creation, a
    missed resize from the volume's update, and closes them when the API no longer lists them."""
    assert cloud.aio.runtime is not None
    scratch = Database(f"sqlite:///{tmp_path}/blind.sqlite")
    migration.upgrade(scratch, metering_db.migration_repo())
    blind = MeteringCore(cloud.aio.runtime.conf, scratch, core_of(cloud).sources)
    creds = cloud.new_user(roles=("member", "reader"), prefix="vol-audited")
    vols = Volumes(cloud, creds)
    start = clock.now
    b = vols.call("POST", "/volumes", {"volume": {"size": 3, "name": "b"}})["volume"]
    vols.wait("volume", b["id"], "available")
    s = vols.call("POST", "/snapshots", {"snapshot": {"volume_id": b["id"]}})["snapshot"]
    vols.wait("snapshot", s["id"], "available")
    advance(cloud, clock, 1)
    assert blind.audit().opened == 2
    advance(cloud, clock, 1)
    vols.call("DELETE", f"/snapshots/{s['id']}")
    vols.wait("snapshot", s["id"], None)
    vols.call("POST", f"/volumes/{b['id']}/action", {"os-extend": {"new_size": 4}})
    fixtures.wait_until(lambda: vols.call("GET", f"/volumes/{b['id']}")["volume"]["size"] == 4, timeout=30,
                        what="the extend")
    advance(cloud, clock, 1)
    result = blind.audit()
    # The resize was seen at the volume's update (02:00); the snapshot closed at the audit (03:00).
    assert (result.changed, result.closed) == (1, 1)
    advance(cloud, clock, 1)
    period = blind.period(None, start.isoformat(), (start + datetime.timedelta(hours=5)).isoformat())
    lines = lines_of(blind.usage(period, creds.project_id)[0])
    # Metered from their creation as the API reports it (what this module's clock said, unless the column
    # default was bound to another clock where the model was first imported: then from the first audit).
    first_audit = start + datetime.timedelta(hours=1)
    b_from = max(start, min(_created(b["created_at"]), first_audit))
    s_from = max(start, min(_created(s["created_at"]), first_audit))
    # volume: 3 GiB until the resize at 02:00, then 4 GiB x 2 h (open up to 04:00); snapshot: 3 GiB until 03:00
    assert lines[("volume", None)][0] == _gib_hours(3, b_from, start + datetime.timedelta(hours=2), extra=8)
    assert lines[("snapshot", None)][0] == _gib_hours(3, s_from, start + datetime.timedelta(hours=3))
    if b_from == start:  # the usual case: created at the start
        assert lines[("volume", None)][0] == "14.000000" and lines[("snapshot", None)][0] == "9.000000"


def _created(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "")).replace(microsecond=0)


def _gib_hours(size: int, since: datetime.datetime, until: datetime.datetime, extra: int = 0) -> str:
    hours = Decimal(int((until - since).total_seconds())) / 3600
    return str((size * hours + extra).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))
