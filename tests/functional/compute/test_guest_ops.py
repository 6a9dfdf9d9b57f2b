"""Server diagnostics (admins; Nova's standard form from 2.48) and changePassword through the guest agent,
on fake compute hosts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status


def _call(cloud: ComputeCloud, method: str, path: str, body: Any = None, version: str = "2.1",
          creds: Any = None) -> requests.Response:
    return requests.request(method, f"{cloud.url('compute-api')}/v2.1{path}", json=body, timeout=30,
                            headers={"X-Auth-Token": cloud.connection(creds).session.get_token(),
                                     "OpenStack-API-Version": f"compute {version}"})


def _driver(cloud: ComputeCloud, server_id: str) -> Any:
    host = cloud.connection().compute.get_server(server_id).compute_host
    if host in cloud.drivers:
        return cloud.drivers[host]
    return next(item.driver for item in cloud.aio.running if hasattr(item, "driver"))


@pytest.fixture(scope="module")
def server(cloud: ComputeCloud, image_id: str, flavor_id: str) -> Any:
    return wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id).id, "ACTIVE")


def test_diagnostics_in_both_forms_for_admins_only(cloud: ComputeCloud, server: Any, flavor_id: str) -> None:
    flavor = cloud.connection().compute.get_flavor(flavor_id)
    standard = _call(cloud, "GET", f"/servers/{server.id}/diagnostics", version="2.48")
    assert standard.status_code == 200, standard.text
    body = standard.json()
    assert body["state"] == "running" and body["driver"] == "libvirt"
    assert body["num_cpus"] == flavor.vcpus == len(body["cpu_details"])
    assert body["memory_details"] == {"maximum": flavor.ram, "used": flavor.ram}
    assert body["num_disks"] == 1 and body["num_nics"] == 0 and isinstance(body["uptime"], int)
    legacy = _call(cloud, "GET", f"/servers/{server.id}/diagnostics", version="2.47")
    assert legacy.status_code == 200 and legacy.json()["memory"] == flavor.ram * 1024
    assert "cpu0_time" in legacy.json() and "vda_read" in legacy.json()

    member = cloud.new_user(roles=("member", "reader"))
    assert _call(cloud, "GET", f"/servers/{server.id}/diagnostics", creds=member).status_code == 404
    assert _call(cloud, "GET", f"/servers/{uuid.uuid4()}/diagnostics").status_code == 404


def test_diagnostics_of_a_stopped_server_are_a_conflict(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    stopped = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    conn.compute.stop_server(stopped)
    wait_for_status(conn, stopped.id, "SHUTOFF")
    resp = _call(cloud, "GET", f"/servers/{stopped.id}/diagnostics", version="2.48")
    assert resp.status_code == 409 and "not running" in resp.text
    assert _call(cloud, "POST", f"/servers/{stopped.id}/action",
                 {"changePassword": {"adminPass": "x"}}).status_code == 409
    conn.compute.delete_server(stopped)


def test_change_password_reaches_the_guest_agent(cloud: ComputeCloud, server: Any) -> None:
    resp = _call(cloud, "POST", f"/servers/{server.id}/action", {"changePassword": {"adminPass": "Newpass1234"}})
    assert resp.status_code == 202 and resp.text == "", resp.text
    assert _driver(cloud, server.id).admin_passwords[server.id] == "Newpass1234"
    shown = wait_for_status(cloud.connection(), server.id, "ACTIVE")
    assert shown.task_state is None
    actions = _call(cloud, "GET", f"/servers/{server.id}/os-instance-actions").json()["instanceActions"]
    assert actions[0]["action"] == "changePassword"

    for bad in ({}, {"adminPass": 5}, {"adminPass": "x" * 256}, {"adminPass": "x", "other": 1}, None):
        refused = _call(cloud, "POST", f"/servers/{server.id}/action", {"changePassword": bad})
        assert refused.status_code == 400, (bad, refused.text)


def test_change_password_without_a_guest_agent_is_a_conflict(cloud: ComputeCloud, server: Any) -> None:
    _driver(cloud, server.id).fail_next("set_admin_password", "guest agent did not answer")
    resp = _call(cloud, "POST", f"/servers/{server.id}/action", {"changePassword": {"adminPass": "pw"}})
    assert resp.status_code == 409 and "guest agent did not answer" in resp.json()["conflictingRequest"]["message"]
    assert wait_for_status(cloud.connection(), server.id, "ACTIVE").task_state is None
