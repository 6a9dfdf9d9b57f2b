"""``changes-since`` / ``changes-before`` server listings: deleted servers included, offsets converted to UTC."""

from __future__ import annotations

import datetime
import time
from typing import Any

import requests

from tests.functional.cloud import Credentials
from tests.functional.compute.conftest import ComputeCloud, wait_for_status


def _list(cloud: ComputeCloud, creds: Credentials, query: dict[str, str], version: str = "2.66") -> requests.Response:
    return requests.get(f"{cloud.url('compute-api')}/v2.1/servers/detail", params=query, timeout=30,
                        headers={"X-Auth-Token": cloud.connection(creds).session.get_token(),
                                 "OpenStack-API-Version": f"compute {version}"})


def _ids(resp: requests.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    return {s["id"]: s["status"] for s in resp.json()["servers"]}


def _stamp(moment: datetime.datetime, offset_hours: int = 0) -> str:
    zone = datetime.timezone(datetime.timedelta(hours=offset_hours))
    return moment.astimezone(zone).isoformat(timespec="seconds")


def test_changes_since_and_before(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    user = cloud.new_user()
    conn = cloud.connection(user)
    kept, gone = (conn.compute.create_server(name=n, image_id=image_id, flavor_id=flavor_id, networks="none")
                  for n in ("kept", "gone"))
    for server in (kept, gone):
        wait_for_status(conn, server.id, "ACTIVE")
    time.sleep(1.1)
    t0 = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    time.sleep(1.1)
    conn.compute.delete_server(gone.id)
    conn.compute.wait_for_delete(gone, wait=30)

    # A member sees its deleted server (DELETED) in a changes-since listing, and nothing older.
    assert _ids(_list(cloud, user, {"changes-since": _stamp(t0)})) == {gone.id: "DELETED"}
    assert _ids(_list(cloud, user, {"changes-since": _stamp(t0).replace("+00:00", "Z")})) == {gone.id: "DELETED"}
    # The same moment written with an offset is the same moment.
    assert _ids(_list(cloud, user, {"changes-since": _stamp(t0, 5)})) == {gone.id: "DELETED"}
    assert _ids(_list(cloud, user, {"changes-since": _stamp(t0, -7)})) == {gone.id: "DELETED"}
    assert gone.id not in _ids(_list(cloud, user, {}))

    hour_before = t0 - datetime.timedelta(hours=1)
    window = {"changes-since": _stamp(hour_before), "changes-before": _stamp(t0, 3)}
    assert _ids(_list(cloud, user, window)) == {kept.id: "ACTIVE"}
    # changes-before came with 2.66: ignored before it.
    assert _ids(_list(cloud, user, window, "2.65")) == {kept.id: "ACTIVE", gone.id: "DELETED"}
    assert _ids(_list(cloud, user, {"changes-before": _stamp(t0)})) == {kept.id: "ACTIVE"}

    reversed_window = _list(cloud, user, {"changes-since": _stamp(t0), "changes-before": _stamp(hour_before)})
    assert reversed_window.status_code == 400 and "changes-since" in reversed_window.json()["badRequest"]["message"]
    for bad in ("yesterday", "2026-13-01T00:00:00", "x" * 300):
        refused = _list(cloud, user, {"changes-since": bad})
        assert refused.status_code == 400 and "changes-since" in refused.json()["badRequest"]["message"]
    conn.compute.delete_server(kept.id)
