"""Images through the openstack CLI, glanceclient and plain HTTP."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from typing import Any

import requests

from tests import fixtures
from tests.functional.cloud import Cloud, Credentials
from tests.functional.image import disk_images


def _qcow2(path: str, virtual: int, padding: int = 4096) -> bytes:
    return disk_images.qcow2(path, virtual, data=os.urandom(padding))


def _osc(cloud: Cloud, *args: str, creds: Credentials | None = None) -> Any:
    return cloud.openstack(*args, creds=creds)


def _token_headers(cloud: Cloud, creds: Credentials | None = None) -> dict[str, str]:
    sess = cloud.connection(creds).session
    return {"X-Auth-Token": sess.get_token()}


def _wait_status(cloud: Cloud, image_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    def image() -> dict[str, Any] | None:
        found = requests.get(f"{cloud.url('image')}/v2/images/{image_id}", headers=_token_headers(cloud),
                             timeout=10).json()
        return found if found["status"] == status else None

    return fixtures.wait_until(image, timeout=timeout, interval=0.2,  # type: ignore[no-any-return]
                               what=f"image {image_id} to be {status}")


def test_create_with_file_show_save_and_delete(cloud: Cloud, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "disk.qcow2"
    data = _qcow2(str(source), virtual=10 * 1024**3)
    name = f"img-{uuid.uuid4().hex[:8]}"
    image = _osc(cloud, "image", "create", "--file", str(source), "--disk-format", "qcow2",
                 "--container-format", "bare", "--property", "os_distro=cirros", "--tag", "test", name)
    assert image["status"] == "active" and image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    shown = _osc(cloud, "image", "show", image["id"])
    assert shown["virtual_size"] == 10 * 1024**3
    assert shown["properties"]["os_hash_algo"] if "properties" in shown and "os_hash_algo" in shown["properties"] \
        else shown.get("os_hash_algo") == "sha512"
    listed = _osc(cloud, "image", "list", "--name", name)
    assert [row["ID"] for row in listed] == [image["id"]]
    out = tmp_path / "saved"
    cloud.openstack("image", "save", "--file", str(out), image["id"], json_output=False)
    assert out.read_bytes() == data
    cloud.openstack("image", "set", "--property", "hw_disk_bus=virtio", "--min-disk", "2", image["id"],
                    json_output=False)
    cloud.openstack("image", "unset", "--property", "os_distro", image["id"], json_output=False)
    shown = _osc(cloud, "image", "show", image["id"])
    props = shown.get("properties") or {}
    assert props.get("hw_disk_bus") == "virtio" and "os_distro" not in props and shown["min_disk"] == 2
    cloud.openstack("image", "delete", image["id"], json_output=False)
    gone = cloud.openstack("image", "show", image["id"], check=False, json_output=False)
    assert gone.returncode != 0


def test_sharing_and_member_accept(cloud: Cloud, tmp_path) -> None:  # type: ignore[no-untyped-def]
    owner, other = cloud.new_user(["member"]), cloud.new_user(["member"])
    source = tmp_path / "shared.raw"
    source.write_bytes(os.urandom(1024))
    image = _osc(cloud, "image", "create", "--file", str(source), "--disk-format", "raw", "--container-format",
                 "bare", "--shared", f"shared-{uuid.uuid4().hex[:6]}", creds=owner)
    _osc(cloud, "image", "add", "project", image["id"], other.project_id, creds=owner)
    pending = [row["ID"] for row in _osc(cloud, "image", "list", creds=other)]
    assert image["id"] not in pending  # not accepted yet
    cloud.openstack("image", "set", "--accept", image["id"], creds=other, json_output=False)
    accepted = [row["ID"] for row in _osc(cloud, "image", "list", creds=other)]
    assert image["id"] in accepted
    # The member may read but not change it; publicizing needs an admin.
    refused = cloud.openstack("image", "set", "--name", "hijack", image["id"], creds=other, check=False,
                              json_output=False)
    assert refused.returncode != 0
    public = cloud.openstack("image", "set", "--public", image["id"], creds=owner, check=False, json_output=False)
    assert public.returncode != 0 and "403" in public.stderr + public.stdout or "Forbidden" in public.stderr


def test_tags_deactivate_and_protected(cloud: Cloud, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "t.raw"
    source.write_bytes(b"x" * 2048)
    image = _osc(cloud, "image", "create", "--file", str(source), "--disk-format", "raw", "--container-format",
                 "bare", "--protected", f"tagged-{uuid.uuid4().hex[:6]}")
    cloud.openstack("image", "set", "--tag", "gold", image["id"], json_output=False)
    assert "gold" in _osc(cloud, "image", "show", image["id"])["tags"]
    assert image["id"] in [r["ID"] for r in _osc(cloud, "image", "list", "--tag", "gold")]
    cloud.openstack("image", "set", "--deactivate", image["id"], json_output=False)
    assert _osc(cloud, "image", "show", image["id"])["status"] == "deactivated"
    cloud.openstack("image", "set", "--activate", image["id"], json_output=False)
    assert cloud.openstack("image", "delete", image["id"], check=False, json_output=False).returncode != 0
    cloud.openstack("image", "set", "--unprotected", image["id"], json_output=False)
    cloud.openstack("image", "delete", image["id"], json_output=False)


def test_import_web_download_and_glance_direct(cloud: Cloud, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = _qcow2(str(tmp_path / "remote.qcow2"), virtual=1024**3, padding=300_000)
    with disk_images.serve_directory(str(tmp_path)) as port:
        # Created over HTTP: the CLI without --file would upload its (empty) stdin as the data.
        image = requests.post(f"{cloud.url('image')}/v2/images", headers=_token_headers(cloud), timeout=10, json={
            "name": f"web-{uuid.uuid4().hex[:6]}", "disk_format": "qcow2", "container_format": "bare"}).json()
        cloud.openstack("image", "import", "--method", "web-download", "--uri",
                        f"http://127.0.0.1:{port}/remote.qcow2", image["id"], json_output=False)
        done = _wait_status(cloud, image["id"], "active")
    assert done["status"] == "active" and done["size"] == len(data)
    assert done["os_hash_value"] == hashlib.sha512(data).hexdigest()
    staged = tmp_path / "staged.raw"
    staged.write_bytes(os.urandom(50_000))
    direct = _osc(cloud, "image", "create", "--import", "--file", str(staged), "--disk-format", "raw",
                  "--container-format", "bare", f"direct-{uuid.uuid4().hex[:6]}")
    assert _wait_status(cloud, direct["id"], "active")["checksum"] == hashlib.md5(staged.read_bytes()).hexdigest()
    info = requests.get(f"{cloud.url('image')}/v2/info/import", headers=_token_headers(cloud), timeout=10).json()
    assert info["import-methods"]["value"] == ["glance-direct", "web-download"]


def test_glanceclient_upload_download_and_range(cloud: Cloud) -> None:
    from glanceclient import Client

    sess = cloud.connection().session
    glance = Client("2", session=sess, endpoint_override=cloud.url("image"))
    image = glance.images.create(name=f"gc-{uuid.uuid4().hex[:6]}", disk_format="raw", container_format="bare")
    payload = os.urandom(200_000)
    glance.images.upload(image.id, io.BytesIO(payload))
    assert glance.images.get(image.id).status == "active"
    assert b"".join(glance.images.data(image.id)) == payload
    headers = {**_token_headers(cloud), "Range": "bytes=100-199"}
    part = requests.get(f"{cloud.url('image')}/v2/images/{image.id}/file", headers=headers, timeout=10)
    assert part.status_code == 206 and part.content == payload[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(payload)}"
    bad = requests.get(f"{cloud.url('image')}/v2/images/{image.id}/file", timeout=10,
                       headers={**_token_headers(cloud), "Range": "bytes=999999-"})
    assert bad.status_code == 416
    glance.images.delete(image.id)


def test_bad_input_and_failed_uploads(cloud: Cloud) -> None:
    base, headers = cloud.url("image"), _token_headers(cloud)
    bad = requests.post(f"{base}/v2/images", json={"name": "x", "disk_format": "floppy"}, headers=headers, timeout=10)
    assert bad.status_code == 400 and "disk_format" in bad.json()["error"]["message"]
    image = requests.post(f"{base}/v2/images", json={"name": "x", "disk_format": "raw", "container_format": "bare"},
                          headers=headers, timeout=10).json()
    patch_headers = {**headers, "Content-Type": "application/openstack-images-v2.1-json-patch"}
    for path, code in (("/status", 403), ("/os_glance_x", 403), ("/size", 403)):
        resp = requests.patch(f"{base}/v2/images/{image['id']}", headers=patch_headers, timeout=10,
                              json=[{"op": "replace", "path": path, "value": "1"}])
        assert resp.status_code == code, (path, resp.text)
    wrong_type = requests.patch(f"{base}/v2/images/{image['id']}", json=[], headers=headers, timeout=10)
    assert wrong_type.status_code == 415
    # A body shorter than its Content-Length (the client went away): the image stays queued, nothing stored.
    import socket
    host, port = base.split("//")[1].split(":")
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\nHost: {host}\r\n"
                     f"X-Auth-Token: {headers['X-Auth-Token']}\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: 100000\r\n\r\n".encode() + b"y" * 1000)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(4096)
    assert _wait_status(cloud, image["id"], "queued", timeout=5)["status"] == "queued"
    md5 = requests.put(f"{base}/v2/images/{image['id']}/file", data=b"z" * 10, timeout=10,
                       headers={**headers, "Content-Type": "application/octet-stream", "Content-MD5": "0" * 32})
    assert md5.status_code == 400
    ok = requests.put(f"{base}/v2/images/{image['id']}/file", data=b"z" * 10, timeout=10,
                      headers={**headers, "Content-Type": "application/octet-stream"})
    assert ok.status_code == 204
    again = requests.put(f"{base}/v2/images/{image['id']}/file", data=b"z", timeout=10,
                         headers={**headers, "Content-Type": "application/octet-stream"})
    assert again.status_code == 409
