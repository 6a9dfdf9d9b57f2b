"""A cloud whose computes are capped at compute RPC 1.0 (as while 1.0 hosts still run): what 1.0 can do
works, what it cannot is refused with 409 before anything changes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest
import requests

from tests.functional.compute import conftest
from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status

CAPPED = {**conftest.CONFIG, "upgrade_levels": {"compute": "1.0"}}


@pytest.fixture(scope="module")
def cloud() -> Iterator[ComputeCloud]:
    with tempfile.TemporaryDirectory(prefix="nubis-capped-") as tmp:
        yield from conftest._cloud(tmp, CAPPED)


def _action(cloud: ComputeCloud, server_id: str, body: dict[str, object]) -> requests.Response:
    conn = cloud.connection()
    return requests.post(f"{cloud.url('compute-api')}/v2.1/servers/{server_id}/action", json=body, timeout=10,
                         headers={"X-Auth-Token": conn.session.get_token()})


def test_what_1_0_has_works_and_what_it_lacks_is_refused_cleanly(cloud: ComputeCloud, image_id: str,
                                                                 flavor_id: str) -> None:
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")  # build_and_run_instance: 1.0
    images_before = {i.id for i in conn.image.images()}
    for body, method in (({"shelve": None}, "shelve_instance"), ({"createImage": {"name": "s"}}, "snapshot_instance"),
                         ({"migrate": None}, "receive_guest")):
        resp = _action(cloud, server.id, body)
        assert resp.status_code == 409, (body, resp.text)
        message = resp.json()["conflictingRequest"]["message"]
        assert f"{method} needs compute RPC 1.1" in message and "caps it at 1.0" in message
    after = conn.compute.get_server(server.id)
    assert (after.status, after.task_state) == ("ACTIVE", None)  # nothing was left half done
    assert {i.id for i in conn.image.images()} == images_before  # no image record made
    assert _action(cloud, server.id, {"os-stop": None}).status_code == 202  # power_action: 1.0
    wait_for_status(conn, server.id, "SHUTOFF")
    conn.compute.delete_server(server.id)


def test_boot_from_volume_needs_compute_rpc_1_4(cloud: ComputeCloud, flavor_id: str) -> None:
    """Refused before any volume is made or reserved (this cloud has no volume service to reach either)."""
    conn = cloud.connection()
    servers_before = {s.id for s in conn.compute.servers()}
    resp = requests.post(f"{cloud.url('compute-api')}/v2.1/servers", timeout=10, json={"server": {
        "name": "bfv", "flavorRef": flavor_id, "imageRef": "", "networks": "none",
        "block_device_mapping_v2": [{"boot_index": 0, "source_type": "blank", "destination_type": "volume",
                                     "volume_size": 1}]}},
        headers={"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.79"})
    assert resp.status_code == 409, resp.text
    message = resp.json()["conflictingRequest"]["message"]
    assert "boot from volume" in message and "needs compute RPC 1.4" in message and "caps it at 1.0" in message
    assert {s.id for s in conn.compute.servers()} == servers_before
