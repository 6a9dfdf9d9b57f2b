"""Upload a volume to an image (Cinder's ``os-volume_upload_image``, Tempest's test_volumes_actions.py
test_volume_upload): the image is created as the caller, the storage host writes the volume's data to it in the
asked disk format, and the volume goes back to available (in-use when attached)."""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests import fixtures
from tests.functional.cloud import Cloud
from tests.functional.volume.test_volumes import Api, GiB

MARKER = b"volume-upload-marker"




def _path(cloud: Cloud, volume_id: str) -> str:
    return os.path.join(cloud.aio.options.state_dir, "volumes", f"volume-{volume_id}")


def _volume_with_marker(cloud: Cloud, api: Api) -> dict[str, Any]:
    vol = api.wait(api.create(1, name="to-upload", description="uploaded")["id"], "available")
    with open(_path(cloud, vol["id"]), "r+b") as f:
        f.seek(65536)
        f.write(MARKER)
    return vol


class Images:
    """The image API as one caller."""

    def __init__(self, cloud: Cloud, api: Api) -> None:
        self.root = f"{cloud.url('image')}/v2/images"
        self.headers = {"X-Auth-Token": api.token}

    def show(self, image_id: str) -> requests.Response:
        return requests.get(f"{self.root}/{image_id}", headers=self.headers, timeout=30)

    def wait_active(self, image_id: str) -> dict[str, Any]:
        fixtures.wait_until(lambda: self.show(image_id).json().get("status") == "active", timeout=60, interval=0.2,
                            what=f"image {image_id} to be active")
        return self.show(image_id).json()

    def download(self, image_id: str, target: str) -> None:
        with requests.get(f"{self.root}/{image_id}/file", headers=self.headers, timeout=120, stream=True) as resp:
            assert resp.status_code == 200, resp.text
            with open(target, "wb") as f:
                for chunk in resp.iter_content(1024 * 1024):
                    f.write(chunk)

    def delete(self, image_id: str) -> None:
        requests.delete(f"{self.root}/{image_id}", headers=self.headers, timeout=30)


def _upload(api: Api, volume_id: str, version: str | None = None, **args: Any) -> requests.Response:
    body = {"os-volume_upload_image": {"image_name": f"from-volume-{uuid.uuid4().hex[:6]}", **args}}
    return api.call("POST", f"/volumes/{volume_id}/action", body, version=version)


@pytest.mark.parametrize("disk_format", ["qcow2", "raw"])
def test_upload_as_each_format(cloud: Cloud, member: Api, tmp_path: Any, disk_format: str) -> None:
    vol = _volume_with_marker(cloud, member)
    images = Images(cloud, member)
    resp = _upload(member, vol["id"], disk_format=disk_format)
    assert resp.status_code == 202, resp.text
    up = resp.json()["os-volume_upload_image"]
    assert (up["id"], up["status"], up["size"], up["display_description"]) == (vol["id"], "uploading", 1, "uploaded")
    assert (up["disk_format"], up["container_format"]) == (disk_format, "bare")
    assert up["volume_type"]["name"] == "__DEFAULT__" and "visibility" not in up  # visibility from 3.1
    image = images.wait_active(up["image_id"])
    member.wait(vol["id"], "available")
    # Made as the caller: the member's project owns it.
    assert (image["name"], image["disk_format"], image["owner"]) == (up["image_name"], disk_format,
                                                                     member.project_id)
    assert image["visibility"] == "private"
    target = str(tmp_path / f"image.{disk_format}")
    images.download(up["image_id"], target)
    if disk_format == "qcow2":
        raw = str(tmp_path / "back.raw")
        subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", target, raw], check=True)
        assert os.path.getsize(target) < GiB // 100  # qcow2 skips the zeroes
        target = raw
    assert os.path.getsize(target) == GiB
    with open(target, "rb") as f:
        f.seek(65536)
        assert f.read(len(MARKER)) == MARKER
    os.unlink(target)
    volumes_dir = os.path.dirname(_path(cloud, vol["id"]))
    assert not [n for n in os.listdir(volumes_dir) if n.startswith(".upload-")]  # the converted copy is gone
    images.delete(up["image_id"])
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")


def test_visibility_protected_and_force(cloud: Cloud, member: Api, admin: Api) -> None:
    vol = _volume_with_marker(cloud, member)
    images = Images(cloud, member)
    public = _upload(member, vol["id"], version="3.1", visibility="public")
    assert public.status_code == 403  # upload_public is the admins'
    assert member.volume(vol["id"])["status"] == "available"

    resp = _upload(member, vol["id"], version="3.1", visibility="shared", protected=True, disk_format="qcow2")
    assert resp.status_code == 202, resp.text
    up = resp.json()["os-volume_upload_image"]
    assert (up["visibility"], up["protected"]) == ("shared", True)
    image = images.wait_active(up["image_id"])
    assert (image["visibility"], image["protected"]) == ("shared", True)
    member.wait(vol["id"], "available")
    requests.patch(f"{images.root}/{up['image_id']}", headers={
        **images.headers, "Content-Type": "application/openstack-images-v2.1-json-patch"}, timeout=30,
        json=[{"op": "replace", "path": "/protected", "value": False}])
    images.delete(up["image_id"])

    # Attached: only with force, and the volume is in-use again after.
    act = f"/volumes/{vol['id']}/action"
    member.ok("POST", act, {"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdb"}})
    refused = _upload(member, vol["id"])
    assert refused.status_code == 400 and "force" in refused.json()["badRequest"]["message"]
    forced = _upload(member, vol["id"], force=True, disk_format="qcow2")
    assert forced.status_code == 202, forced.text
    images.wait_active(forced.json()["os-volume_upload_image"]["image_id"])
    shown = member.wait(vol["id"], "in-use")
    assert shown["attachments"]
    images.delete(forced.json()["os-volume_upload_image"]["image_id"])
    member.ok("POST", act, {"os-detach": {}})
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")


def test_bad_requests(cloud: Cloud, member: Api, admin: Api) -> None:
    vol = member.wait(member.create(1)["id"], "available")
    bad: list[dict[str, Any]] = [{}, {"image_name": ""}, {"image_name": "x", "disk_format": "iso"},
                                 {"image_name": "x", "container_format": "ovf"}, {"image_name": "x", "color": 1},
                                 {"image_name": "x", "force": "maybe"}]
    for args in bad:
        resp = member.call("POST", f"/volumes/{vol['id']}/action", {"os-volume_upload_image": args})
        assert resp.status_code == 400, (args, resp.text)
    assert _upload(member, str(uuid.uuid4())).status_code == 404
    other = Api(cloud, cloud.new_user(["member", "reader"]))
    assert _upload(other, vol["id"]).status_code == 404  # another project's volume
    reader = Api(cloud, cloud.new_user(["reader"], project_id=member.project_id))
    assert _upload(reader, vol["id"]).status_code == 403
    member.ok("DELETE", f"/volumes/{vol['id']}")


def test_failed_upload_deletes_the_image_and_restarted_manager_settles(cloud: Cloud, member: Api) -> None:
    from nubis.volume import manager_service

    vol = member.wait(member.create(1)["id"], "available")
    os.unlink(_path(cloud, vol["id"]))  # nothing for qemu-img to read: the upload fails
    resp = _upload(member, vol["id"], disk_format="qcow2")
    assert resp.status_code == 202, resp.text
    image_id = resp.json()["os-volume_upload_image"]["image_id"]
    member.wait(vol["id"], "available")
    images = Images(cloud, member)
    fixtures.wait_until(lambda: images.show(image_id).status_code == 404, timeout=30, interval=0.2,
                        what=f"image {image_id} to be deleted")

    # A manager that stopped during an upload gives the volume back at its start.
    runtime = cloud.aio.runtime
    assert runtime is not None
    with runtime.database("volume").writer() as s:
        s.execute(sa.text("UPDATE volume SET status = 'uploading' WHERE id = :i"), {"i": vol["id"]})
    assert member.volume(vol["id"])["status"] == "uploading"
    manager_service.build_manager(runtime).recover()
    assert member.volume(vol["id"])["status"] == "available"
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")
