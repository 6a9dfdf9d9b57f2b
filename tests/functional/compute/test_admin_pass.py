"""``adminPass`` in the responses to create and rebuild, and ``[api] enable_instance_password``."""

from __future__ import annotations

from typing import Any

import requests

from tests.functional.compute.conftest import ComputeCloud, wait_for_status


def _post(cloud: ComputeCloud, path: str, body: Any) -> requests.Response:
    return requests.post(f"{cloud.url('compute-api')}/v2.1{path}", json=body, timeout=30,
                         headers={"X-Auth-Token": cloud.connection().session.get_token(),
                                  "OpenStack-API-Version": "compute 2.37"})


def _create(cloud: ComputeCloud, image_id: str, flavor_id: str, **extra: Any) -> dict[str, Any]:
    resp = _post(cloud, "/servers", {"server": {"name": "pw", "imageRef": image_id, "flavorRef": flavor_id,
                                                "networks": "none", **extra}})
    assert resp.status_code == 202, resp.text
    return resp.json()["server"]  # type: ignore[no-any-return]


def test_create_and_rebuild_return_the_admin_password(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    generated = _create(cloud, image_id, flavor_id)
    assert isinstance(generated["adminPass"], str) and len(generated["adminPass"]) == 12
    given = _create(cloud, image_id, flavor_id, adminPass="s3cret-pass")
    assert given["adminPass"] == "s3cret-pass"

    wait_for_status(conn, given["id"], "ACTIVE")
    rebuilt = _post(cloud, f"/servers/{given['id']}/action", {"rebuild": {"imageRef": image_id}})
    assert rebuilt.status_code == 202, rebuilt.text
    assert len(rebuilt.json()["server"]["adminPass"]) == 12
    wait_for_status(conn, given["id"], "ACTIVE")
    rebuilt = _post(cloud, f"/servers/{given['id']}/action", {"rebuild": {"imageRef": image_id, "adminPass": "pw2"}})
    assert rebuilt.json()["server"]["adminPass"] == "pw2"

    # The SDK reads it as the server's admin_password.
    server = conn.compute.create_server(name="pw-sdk", image_id=image_id, flavor_id=flavor_id, networks="none")
    assert server.admin_password and len(server.admin_password) == 12
    for server_id in (generated["id"], given["id"], server.id):
        conn.compute.delete_server(server_id)


def test_disabled_instance_password_leaves_it_out(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conf = cloud.aio.runtime.conf  # type: ignore[union-attr]
    conf.set_override("enable_instance_password", False, group="api")
    try:
        server = _create(cloud, image_id, flavor_id, adminPass="not-returned")
        assert "adminPass" not in server and server["id"]
        wait_for_status(cloud.connection(), server["id"], "ACTIVE")
        rebuilt = _post(cloud, f"/servers/{server['id']}/action", {"rebuild": {"imageRef": image_id}})
        assert rebuilt.status_code == 202 and "adminPass" not in rebuilt.json()["server"]
    finally:
        conf.clear_override("enable_instance_password", group="api")
    cloud.connection().compute.delete_server(server["id"])
