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
