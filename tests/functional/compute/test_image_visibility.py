"""Compute uses an image only where the image API shows it to the caller: boot, rebuild and snapshots read
the image as the caller, so another project's shared (or private) image is not found; and a backup
rotation only counts (and deletes) the server's own project's backups."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from tests.functional.compute.conftest import ComputeCloud
from tests.functional.compute.conftest import wait_for_status as _wait


def _image(conn: Any, **kwargs: Any) -> Any:
    return conn.image.create_image(name=f"img-{uuid.uuid4().hex[:6]}", disk_format="raw", container_format="bare",
                                   data=io.BytesIO(b"\0" * 4096), **kwargs)


def _boot(conn: Any, image_id: str, flavor_id: str) -> Any:
    return conn.compute.post("/servers", raise_exc=False, microversion="2.37", json={"server": {
        "name": f"vm-{uuid.uuid4().hex[:6]}", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none"}})


def test_another_projects_image_is_usable_only_as_the_image_api_shows_it(cloud: ComputeCloud, image_id: str,
                                                                          flavor_id: str) -> None:
    owner, stranger, member = (cloud.new_user() for _ in range(3))
    a, b, c = (cloud.connection(creds) for creds in (owner, stranger, member))
    shared = _image(a)
    assert shared.visibility == "shared"  # the image service's default for a new image
    private = _image(a, visibility="private")
    with_member = _image(a)
    a.image.add_member(with_member, member_id=member.project_id)
    c.image.update_member(member.project_id, with_member, status="accepted")
    community = _image(a, visibility="community")

    for hidden in (shared, private, with_member):
        with pytest.raises(sdk_exc.ResourceNotFound):
            b.image.get_image(hidden.id)
        resp = _boot(b, hidden.id, flavor_id)
        assert resp.status_code == 400 and hidden.id in resp.json()["badRequest"]["message"], resp.text
    assert not list(b.compute.servers())

    accepted = _boot(c, with_member.id, flavor_id)  # the member the owner shared it with
    assert accepted.status_code == 202, accepted.text
    anyone = _boot(b, community.id, flavor_id)
    assert anyone.status_code == 202, anyone.text
    server = _wait(b, anyone.json()["server"]["id"], "ACTIVE")

    rebuild = b.compute.post(f"/servers/{server.id}/action", json={"rebuild": {"imageRef": with_member.id}},
                             raise_exc=False)
    assert rebuild.status_code == 400 and with_member.id in rebuild.text
    assert b.compute.get_server(server.id).image["id"] == community.id
    b.compute.rebuild_server(server, image=image_id)  # a public image stays usable by everyone
    assert _wait(b, server.id, "ACTIVE").image["id"] == image_id

    for conn, server_id in ((b, server.id), (c, accepted.json()["server"]["id"])):
        conn.compute.delete_server(server_id)
        conn.compute.wait_for_delete(conn.compute.get_server(server_id), wait=30)
    for image in (shared, private, with_member, community):
        a.image.delete_image(image)


def _backup(conn: Any, server_id: str, name: str) -> str:
    resp = conn.compute.post(f"/servers/{server_id}/action", microversion="2.45", raise_exc=False, json={
        "createBackup": {"name": name, "backup_type": "daily", "rotation": 2}})
    assert resp.status_code == 202, resp.text
    deadline = time.monotonic() + 30
    while conn.compute.get_server(server_id).task_state is not None:
        assert time.monotonic() < deadline, "the backup did not finish"
        time.sleep(0.1)
    return str(resp.json()["image_id"])


def test_look_alike_backups_of_another_project_do_not_rotate_a_servers_backups_out(
        cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    owner, other = cloud.new_user(), cloud.new_user()
    a, b = cloud.connection(owner), cloud.connection(other)
    server = _wait(a, _boot(a, image_id, flavor_id).json()["server"]["id"], "ACTIVE")
    first = _backup(a, server.id, "nightly-1")
    # Anyone may give an image of theirs the properties compute's backups carry.
    fakes = [_image(b, instance_uuid=server.id, image_type="backup", backup_type="daily") for _ in range(2)]
    second = _backup(a, server.id, "nightly-2")
    assert a.image.get_image(first).status == "active"  # rotation 2: both of the server's backups stay
    assert a.image.get_image(second).status == "active"
    assert [b.image.get_image(f.id).status for f in fakes] == ["active", "active"]
    for image in (first, second):
        a.image.delete_image(image)
    for fake in fakes:
        b.image.delete_image(fake)
    a.compute.delete_server(server.id)
