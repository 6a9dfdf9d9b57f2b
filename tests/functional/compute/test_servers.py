"""Servers through openstacksdk and the openstack CLI, on three fake compute hosts."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import pytest
import requests

from tests.functional.compute.conftest import ComputeCloud
from tests.functional.placement.conftest import placement_client


def _wait(conn: Any, server_id: str, status: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        server = conn.compute.get_server(server_id)
        if server.status == status:
            return server
        if time.monotonic() > deadline:
            raise AssertionError(f"server {server_id} is {server.status} (task {server.task_state}), not {status}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def image_id(cloud: ComputeCloud) -> str:
    conn = cloud.connection()
    image = conn.image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                    data=io.BytesIO(b"\0" * 4096), visibility="public")
    return str(image.id)


@pytest.fixture(scope="module")
def flavor_id(cloud: ComputeCloud) -> str:
    return str(cloud.connection().compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1).id)


def _boot(cloud: ComputeCloud, image_id: str, flavor_id: str, **kwargs: Any) -> Any:
    return cloud.connection().compute.create_server(name=kwargs.pop("name", f"vm-{uuid.uuid4().hex[:6]}"),
                                                    image_id=image_id, flavor_id=flavor_id, networks="none", **kwargs)


def test_boot_show_and_delete(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    key = conn.compute.create_keypair(name=f"k-{uuid.uuid4().hex[:6]}")
    assert key.private_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    server = _wait(conn, _boot(cloud, image_id, flavor_id, key_name=key.name).id, "ACTIVE")
    assert server.power_state == 1 and server.vm_state == "active" and server.task_state is None
    assert server.compute_host in ("compute-2", "compute-3", cloud.aio.runtime.conf.host)  # type: ignore[union-attr]
    assert server.key_name == key.name and server.flavor["original_name"] == "m1.tiny"
    allocations = placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"]
    assert [a["resources"] for a in allocations.values()] == [{"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}]
    assert [a.action for a in conn.compute.server_actions(server.id)] == ["create"]

    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=30)
    assert placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"] == {}


def test_power_actions_and_invalid_transitions(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = _wait(conn, _boot(cloud, image_id, flavor_id).id, "ACTIVE")
    refused = requests.post(f"{cloud.url('compute-api')}/v2.1/servers/{server.id}/action", json={"os-start": None},
                            headers={"X-Auth-Token": conn.session.get_token()}, timeout=10)
    assert refused.status_code == 409
    assert refused.json()["conflictingRequest"]["message"] == (
        f"Cannot 'start' instance {server.id} while it is in vm_state active")
    for act, status in ((conn.compute.stop_server, "SHUTOFF"), (conn.compute.start_server, "ACTIVE"),
                        (conn.compute.pause_server, "PAUSED"), (conn.compute.unpause_server, "ACTIVE"),
                        (conn.compute.suspend_server, "SUSPENDED"), (conn.compute.resume_server, "ACTIVE")):
        act(server)
        _wait(conn, server.id, status)
    conn.compute.reboot_server(server, "HARD")
    _wait(conn, server.id, "ACTIVE")
    actions = [a.action for a in conn.compute.server_actions(server.id)]
    assert actions[0] == "reboot" and "create" in actions and len(actions) == 8
    output = conn.compute.get_server_console_output(server)["output"]
    assert server.name in output
    conn.compute.delete_server(server.id)


def test_no_valid_host_explains_itself(cloud: ComputeCloud, image_id: str) -> None:
    conn = cloud.connection()
    huge = conn.compute.create_flavor(name=f"huge-{uuid.uuid4().hex[:4]}", ram=200_000, vcpus=1, disk=1)
    server = _wait(conn, _boot(cloud, image_id, huge.id).id, "ERROR")
    assert server.fault["code"] == 500
    assert "No valid host was found" in server.fault["message"]
    assert "MEMORY_MB" in server.fault["message"]  # the scheduler's explanation names what was missing
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=30)


def test_failed_spawn_faults_and_frees_the_claim(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    for driver in cloud.drivers.values():
        driver.fail_next("spawn", "disk image is corrupt")
    # Pin to one of the extra hosts so the injected failure is the one hit.
    server = conn.compute.create_server(name="doomed", image_id=image_id, flavor_id=flavor_id, networks="none",
                                        availability_zone="nova:compute-2")
    server = _wait(conn, server.id, "ERROR")
    assert "Build of instance" in server.fault["message"] and "disk image is corrupt" in server.fault["message"]
    assert placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"] == {}
    assert server.id not in cloud.drivers["compute-2"].list_guests()
    cloud.drivers["compute-3"].clear_failures()
    conn.compute.delete_server(server.id)


def test_services_and_hypervisors(cloud: ComputeCloud) -> None:
    conn = cloud.connection()
    computes = [s for s in conn.compute.services() if s.binary == "nubis-compute"]
    assert {s.host for s in computes} >= {"compute-2", "compute-3"} and all(s.state == "up" for s in computes)
    hypervisors = list(conn.compute.hypervisors(details=True))
    assert len(hypervisors) == 3 and all(h.status == "enabled" for h in hypervisors)
    listed = cloud.openstack("compute", "service", "list", "--service", "nubis-compute")
    assert len(listed) == 3


def test_bad_input_is_a_clean_400(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    token = cloud.connection().session.get_token()
    base = f"{cloud.url('compute-api')}/v2.1/servers"
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.90"}
    for body, words in (({"server": {"flavorRef": flavor_id, "imageRef": image_id, "networks": "none"}}, "name"),
                        ({"server": {"name": "x", "imageRef": image_id, "networks": "none"}}, "flavorRef"),
                        ({"server": {"name": "x", "flavorRef": flavor_id, "imageRef": image_id}}, "networks"),
                        ({"server": {"name": "x", "flavorRef": flavor_id, "imageRef": str(uuid.uuid4()),
                                     "networks": "none"}}, "could not be found"),
                        ({"server": {"name": "x", "flavorRef": "nope", "imageRef": image_id, "networks": "none"}},
                         "Flavor nope")):
        resp = requests.post(base, json=body, headers=headers, timeout=10)
        assert resp.status_code in (400, 404), resp.text
        fault = next(iter(resp.json().values()))
        assert words in fault["message"], (body, fault)
