"""Uploaded image data is inspected as it streams: unsafe headers and disk_format mismatches are refused."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import requests

from tests.functional.cloud import Cloud
from tests.functional.image import disk_images

MIB = 1024 * 1024


def _create(cloud: Cloud, api: requests.Session, disk_format: str) -> str:
    resp = api.post(f"{cloud.url('image')}/v2/images", timeout=10, json={
        "name": f"{disk_format}-{uuid.uuid4().hex[:6]}", "disk_format": disk_format, "container_format": "bare"})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _put(cloud: Cloud, api: requests.Session, image_id: str, data: bytes, where: str = "file") -> requests.Response:
    return api.put(f"{cloud.url('image')}/v2/images/{image_id}/{where}", data=data, timeout=60,
                   headers={"Content-Type": "application/octet-stream"})


def _image(cloud: Cloud, api: requests.Session, image_id: str) -> dict[str, Any]:
    return api.get(f"{cloud.url('image')}/v2/images/{image_id}", timeout=10).json()  # type: ignore[no-any-return]


def _stored(cloud: Cloud) -> set[str]:
    found = set()
    for sub in ("images", "staging"):
        directory = os.path.join(cloud.aio.options.state_dir, sub)
        if os.path.isdir(directory):
            found |= {f"{sub}/{name}" for name in os.listdir(directory)}
    return found


def _refused(cloud: Cloud, api: requests.Session, disk_format: str, data: bytes, words: str,
             where: str = "file") -> str:
    """Upload ``data`` as ``disk_format``: 400 naming ``words``, image still queued, nothing kept."""
    image_id = _create(cloud, api, disk_format)
    before = _stored(cloud)
    resp = _put(cloud, api, image_id, data, where)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["error"]["code"] == 400 and words in body["error"]["message"], body
    image = _image(cloud, api, image_id)
    assert image["status"] == "queued" and image["size"] is None and image["checksum"] is None
    assert _stored(cloud) == before
    return image_id


def _accepted(cloud: Cloud, api: requests.Session, disk_format: str, data: bytes) -> dict[str, Any]:
    image_id = _create(cloud, api, disk_format)
    resp = _put(cloud, api, image_id, data)
    assert resp.status_code == 204, resp.text
    image = _image(cloud, api, image_id)
    assert image["status"] == "active" and image["size"] == len(data)
    return image


def test_qcow2_with_backing_or_data_file_is_refused(cloud: Cloud, api: requests.Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = str(tmp_path / "base.qcow2")
    clean = disk_images.qcow2(base, MIB)
    image = _accepted(cloud, api, "qcow2", clean)
    assert image["virtual_size"] == MIB

    backed = disk_images.qcow2(str(tmp_path / "top.qcow2"), MIB, backing=base)
    _refused(cloud, api, "qcow2", backed, "backing file")
    data_file = disk_images.qcow2(str(tmp_path / "df.qcow2"), MIB, options=f"data_file={tmp_path}/ext.raw")
    _refused(cloud, api, "qcow2", data_file, "external data file")
    # Declared raw does not get an unsafe qcow2 past the check either.
    _refused(cloud, api, "raw", backed, "backing file")

    # A large clean qcow2 streams through (only its head is inspected).
    big = disk_images.qcow2(str(tmp_path / "big.qcow2"), 64 * MIB, data=os.urandom(8 * MIB))
    assert _accepted(cloud, api, "qcow2", big)["virtual_size"] == 64 * MIB


def test_vmdk_must_be_one_self_contained_file(cloud: Cloud, api: requests.Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sparse = disk_images.disk(str(tmp_path / "sparse.vmdk"), "vmdk", subformat="monolithicSparse")
    assert _accepted(cloud, api, "vmdk", sparse)["virtual_size"] == MIB
    stream = disk_images.disk(str(tmp_path / "stream.vmdk"), "vmdk", subformat="streamOptimized")
    _accepted(cloud, api, "vmdk", stream)

    flat = disk_images.disk(str(tmp_path / "flat.vmdk"), "vmdk", subformat="monolithicFlat")
    _refused(cloud, api, "vmdk", flat, "descriptor")
    split = disk_images.disk(str(tmp_path / "split.vmdk"), "vmdk", subformat="twoGbMaxExtentSparse")
    _refused(cloud, api, "vmdk", split, "descriptor")
    disk_images.qemu_img("create", "-q", "-f", "vmdk", "-b", str(tmp_path / "sparse.vmdk"), "-F", "vmdk",
                         str(tmp_path / "child.vmdk"))
    _refused(cloud, api, "vmdk", (tmp_path / "child.vmdk").read_bytes(), "parent")
    # The embedded descriptor rewritten (same length) to read a host file as its extent.
    old = b'RW 2048 SPARSE "sparse.vmdk"'
    new = b'RW 2048 FLAT "/etc/shadow" 0'.ljust(len(old))
    assert old in sparse
    _refused(cloud, api, "vmdk", sparse.replace(old, new, 1), "extent")
    other_type = sparse.replace(b'createType="monolithicSparse"', b'createType="vmfsSparse"     ', 1)
    _refused(cloud, api, "vmdk", other_type, "createType")


def test_disk_format_must_match_the_data(cloud: Cloud, api: requests.Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    samples = {
        "qcow2": disk_images.qcow2(str(tmp_path / "d.qcow2"), MIB),
        "vmdk": disk_images.disk(str(tmp_path / "d.vmdk"), "vmdk"),
        "vhd": disk_images.disk(str(tmp_path / "d.vhd"), "vhd"),
        "vhdx": disk_images.disk(str(tmp_path / "d.vhdx"), "vhdx"),
        "vdi": disk_images.disk(str(tmp_path / "d.vdi"), "vdi"),
        "iso": disk_images.iso(str(tmp_path / "d.iso"), str(tmp_path)),
    }
    raw = os.urandom(200_000)
    for disk_format, data in samples.items():
        _accepted(cloud, api, disk_format, data)
        _refused(cloud, api, "raw", data, f"the data is {disk_format}, not the image's disk_format raw")
        _refused(cloud, api, disk_format, raw, f"the data is raw data, not the image's disk_format {disk_format}")
    # A fixed VHD keeps its footer at the end only.
    fixed = disk_images.disk(str(tmp_path / "fixed.vhd"), "vhd", subformat="fixed")
    assert _accepted(cloud, api, "vhd", fixed)["virtual_size"] >= MIB
    _refused(cloud, api, "qcow2", samples["vmdk"], "the data is vmdk")
    _refused(cloud, api, "aki", samples["qcow2"], "the data is qcow2")
    # One file that is two formats at once (a qcow2 header on an ISO) is refused whatever it claims.
    iso = samples["iso"]
    polyglot = samples["qcow2"][:512] + iso[512:]
    _refused(cloud, api, "iso", polyglot, "several formats")
    assert _accepted(cloud, api, "raw", raw)["virtual_size"] == len(raw)


def test_imports_are_inspected_too(cloud: Cloud, api: requests.Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = str(tmp_path / "base.qcow2")
    disk_images.qcow2(base, MIB)
    backed = disk_images.qcow2(str(tmp_path / "top.qcow2"), MIB, backing=base)
    # glance-direct: refused while staging.
    _refused(cloud, api, "qcow2", backed, "backing file", where="stage")
    # web-download: the import fails, the image goes back to queued with the reason, nothing is kept.
    image_id = _create(cloud, api, "qcow2")
    before = _stored(cloud)
    with disk_images.serve_directory(str(tmp_path)) as port:
        resp = api.post(f"{cloud.url('image')}/v2/images/{image_id}/import", timeout=10, json={
            "method": {"name": "web-download", "uri": f"http://127.0.0.1:{port}/top.qcow2"}})
        assert resp.status_code == 202, resp.text
        deadline = time.monotonic() + 30
        image = _image(cloud, api, image_id)
        while "os_glance_import_task" in image and time.monotonic() < deadline:
            time.sleep(0.2)
            image = _image(cloud, api, image_id)
    assert image["status"] == "queued" and "backing file" in image["os_glance_failed_import"], image
    assert _stored(cloud) == before
