"""Per-project image quotas: the image count at create, stored bytes before and during upload."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from tests.functional import cloud as cloud_fixture
from tests.functional.cloud import Cloud

COUNT_QUOTA = 3
BYTES_QUOTA = 100_000
MEMBER_QUOTA = 2


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):  # type: ignore[no-untyped-def]
    # Quota arithmetic is plain SQL already run on every backend by the other image tests.
    tmp = tmp_path_factory.mktemp("image-quota")
    extra = {"identity": {"password_hash_rounds": "4"},
             "image": {"image_count_quota": str(COUNT_QUOTA), "user_storage_quota": str(BYTES_QUOTA),
                       "image_member_quota": str(MEMBER_QUOTA)}}
    with cloud_fixture.running_cloud(tmp, ["image"], extra_config=extra) as c:
        yield c


def _headers(cloud: Cloud) -> dict[str, str]:
    return {"X-Auth-Token": cloud.connection().session.get_token()}


def _create(cloud: Cloud, name: str) -> requests.Response:
    return requests.post(f"{cloud.url('image')}/v2/images", headers=_headers(cloud), timeout=10,
                         json={"name": name, "disk_format": "raw", "container_format": "bare"})


def _upload(cloud: Cloud, image_id: str, body: bytes | Iterator[bytes]) -> requests.Response:
    return requests.put(f"{cloud.url('image')}/v2/images/{image_id}/file", data=body, timeout=30,
                        headers={**_headers(cloud), "Content-Type": "application/octet-stream"})


def _image(cloud: Cloud, image_id: str) -> dict:  # type: ignore[type-arg]
    return requests.get(f"{cloud.url('image')}/v2/images/{image_id}", headers=_headers(cloud), timeout=10).json()


def _stored_files(cloud: Cloud) -> set[str]:
    datadir = os.path.join(cloud.aio.options.state_dir, "images")
    return set(os.listdir(datadir)) if os.path.isdir(datadir) else set()


def test_storage_quota_before_and_during_upload(cloud: Cloud) -> None:
    first = _create(cloud, "fits").json()
    assert _upload(cloud, first["id"], b"a" * 60_000).status_code == 204

    # Declared length over what is left: refused before any byte is read.
    second = _create(cloud, "declared-too-big").json()
    declared = _upload(cloud, second["id"], b"b" * 50_000)
    assert declared.status_code == 413 and "40000" in declared.json()["error"]["message"], declared.text

    # Chunked upload (no length declared) that crosses the quota part way: cut off, nothing kept.
    before = _stored_files(cloud)
    streamed = _upload(cloud, second["id"], (b"c" * 10_000 for _ in range(5)))
    assert streamed.status_code == 413, streamed.text
    assert _image(cloud, second["id"])["status"] == "queued"
    assert _stored_files(cloud) == before

    # What is left still fits.
    assert _upload(cloud, second["id"], b"d" * 40_000).status_code == 204
    assert _image(cloud, second["id"])["size"] == 40_000


def test_member_quota(cloud: Cloud) -> None:
    image = requests.post(f"{cloud.url('image')}/v2/images", headers=_headers(cloud), timeout=10,
                          json={"name": "shared", "visibility": "shared"}).json()
    members = f"{cloud.url('image')}/v2/images/{image['id']}/members"
    for n in range(MEMBER_QUOTA):
        assert requests.post(members, json={"member": f"p{n}"}, headers=_headers(cloud), timeout=10).ok
    over = requests.post(members, json={"member": "one-too-many"}, headers=_headers(cloud), timeout=10)
    assert over.status_code == 413 and "shared with at most 2" in over.json()["error"]["message"], over.text
    listed = requests.get(members, headers=_headers(cloud), timeout=10).json()["members"]
    assert sorted(m["member_id"] for m in listed) == ["p0", "p1"]
    requests.delete(f"{cloud.url('image')}/v2/images/{image['id']}", headers=_headers(cloud), timeout=10)


def test_image_count_quota(cloud: Cloud) -> None:
    existing = len(requests.get(f"{cloud.url('image')}/v2/images", headers=_headers(cloud), timeout=10)
                   .json()["images"])
    for n in range(COUNT_QUOTA - existing):
        assert _create(cloud, f"n{n}").status_code == 201
    over = _create(cloud, "one-too-many")
    assert over.status_code == 413 and "quota" in over.json()["error"]["message"], over.text
