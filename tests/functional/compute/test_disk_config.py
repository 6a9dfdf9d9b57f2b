"""OS-DCF:diskConfig is kept as given (create, update, rebuild, resize) and shown on the server."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.functional.compute.conftest import ComputeCloud, wait_for_status


def _call(cloud: ComputeCloud, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{cloud.url('compute-api')}/v2.1{path}", json=body, timeout=30,
                            headers={"X-Auth-Token": cloud.connection().session.get_token(),
                                     "OpenStack-API-Version": "compute 2.37"})


def _disk_config(cloud: ComputeCloud, server_id: str) -> str:
    return str(_call(cloud, "GET", f"/servers/{server_id}").json()["server"]["OS-DCF:diskConfig"])


def test_disk_config_follows_the_server(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    made = _call(cloud, "POST", "/servers", {"server": {
        "name": "dcf", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none",
        "OS-DCF:diskConfig": "AUTO"}})
    assert made.status_code == 202 and made.json()["server"]["OS-DCF:diskConfig"] == "AUTO", made.text
    server_id = made.json()["server"]["id"]
    conn = cloud.connection()
    wait_for_status(conn, server_id, "ACTIVE")
    assert _disk_config(cloud, server_id) == "AUTO"

    updated = _call(cloud, "PUT", f"/servers/{server_id}", {"server": {"OS-DCF:diskConfig": "MANUAL"}})
    assert updated.status_code == 200 and updated.json()["server"]["OS-DCF:diskConfig"] == "MANUAL"
    rebuilt = _call(cloud, "POST", f"/servers/{server_id}/action",
                    {"rebuild": {"imageRef": image_id, "OS-DCF:diskConfig": "AUTO"}})
    assert rebuilt.status_code == 202 and rebuilt.json()["server"]["OS-DCF:diskConfig"] == "AUTO", rebuilt.text
    wait_for_status(conn, server_id, "ACTIVE")

    bigger = conn.compute.create_flavor(name=f"dcf-{uuid.uuid4().hex[:6]}", ram=1024, vcpus=1, disk=2)
    resized = _call(cloud, "POST", f"/servers/{server_id}/action",
                    {"resize": {"flavorRef": bigger.id, "OS-DCF:diskConfig": "MANUAL"}})
    assert resized.status_code == 202, resized.text
    wait_for_status(conn, server_id, "VERIFY_RESIZE")
    assert _disk_config(cloud, server_id) == "MANUAL"
    bad = _call(cloud, "PUT", f"/servers/{server_id}", {"server": {"OS-DCF:diskConfig": "SOMETIMES"}})
    assert bad.status_code == 400
    conn.compute.delete_server(server_id)
