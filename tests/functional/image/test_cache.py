"""The image cache of an API node (Glance's ``/v2/cache``, image API 2.14): queueing, the prefetcher, downloads
served from the cache with hits counted, deleting and clearing, pruning past the size limit, admin-only rules."""

from __future__ import annotations

import os
import stat
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from nubis.common.db import types
from nubis.image import conf as image_conf
from nubis.image.db.task_models import CachedImage
from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.cloud import Cloud
from tests.functional.image.conftest import CONFIG

MIB = 1024 * 1024


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory) -> Iterator[Cloud]:  # type: ignore[no-untyped-def]
    """The image service with a 3 MiB cache (two 2 MiB images do not fit)."""
    tmp = tmp_path_factory.mktemp("image-cache")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {**CONFIG, "image": {**CONFIG["image"], "image_cache_max_size": str(3 * MIB)},
                 "database": {"connection": url}}
        with cloud_fixture.running_cloud(tmp, ["image"], extra_config=extra) as c:
            yield c


def _base(cloud: Cloud) -> str:
    return cloud.url("image") + "/v2"


def _cache_dir(cloud: Cloud) -> str:
    assert cloud.aio.runtime is not None
    return image_conf.image_cache_dir(cloud.aio.runtime.conf)


def _image(cloud: Cloud, api: requests.Session, data: bytes | None) -> str:
    image = api.post(f"{_base(cloud)}/images", timeout=10, json={
        "name": f"cache-{uuid.uuid4().hex[:6]}", "disk_format": "raw", "container_format": "bare"}).json()
    if data is not None:
        resp = api.put(f"{_base(cloud)}/images/{image['id']}/file", data=data, timeout=30,
                       headers={"Content-Type": "application/octet-stream"})
        assert resp.status_code == 204, resp.text
    return str(image["id"])


def _state(cloud: Cloud, api: requests.Session) -> dict[str, Any]:
    resp = api.get(f"{_base(cloud)}/cache", timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def _cached(cloud: Cloud, api: requests.Session, image_id: str, timeout: float = 30) -> dict[str, Any]:
    """Wait for the prefetcher to cache ``image_id``; its entry."""
    deadline = time.monotonic() + timeout
    while True:
        state = _state(cloud, api)
        found = [e for e in state["cached_images"] if e["image_id"] == image_id]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"image {image_id} was not cached: {state}"
        time.sleep(0.1)


def test_queue_cache_serve_and_delete(cloud: Cloud, api: requests.Session) -> None:
    base = _base(cloud)
    assert api.put(f"{base}/cache/{uuid.uuid4()}", timeout=10).status_code == 404
    queued_only = _image(cloud, api, None)
    resp = api.put(f"{base}/cache/{queued_only}", timeout=10)
    assert resp.status_code == 400 and "active" in resp.json()["error"]["message"], resp.text

    payload = os.urandom(MIB + 5)
    image_id = _image(cloud, api, payload)
    assert api.put(f"{base}/cache/{image_id}", timeout=10).status_code == 202
    entry = _cached(cloud, api, image_id)
    assert entry["size"] == len(payload) and entry["hits"] == 0, entry
    assert isinstance(entry["last_accessed"], float) and abs(entry["last_modified"] - time.time()) < 120
    assert image_id not in _state(cloud, api)["queued_images"]

    # The copy is the service's alone.
    path = os.path.join(_cache_dir(cloud), image_id)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(_cache_dir(cloud)).st_mode) == 0o700
    with open(path, "rb") as f:
        assert f.read() == payload

    # Downloads come from the cache (a copy changed in place shows it) and count hits.
    with open(path, "r+b") as f:
        f.write(b"CACHED")
    got = api.get(f"{base}/images/{image_id}/file", timeout=30)
    assert got.status_code == 200 and got.content == b"CACHED" + payload[6:]
    ranged = api.get(f"{base}/images/{image_id}/file", headers={"Range": "bytes=0-3"}, timeout=30)
    assert ranged.status_code == 206 and ranged.content == b"CACH"
    entry = next(e for e in _state(cloud, api)["cached_images"] if e["image_id"] == image_id)
    assert entry["hits"] == 2 and entry["last_accessed"] >= entry["last_modified"], entry

    # Deleting it from the cache: the store serves again.
    assert api.delete(f"{base}/cache/{image_id}", timeout=10).status_code == 204
    assert image_id not in [e["image_id"] for e in _state(cloud, api)["cached_images"]]
    assert not os.path.exists(path)
    assert api.get(f"{base}/images/{image_id}/file", timeout=30).content == payload
    # Glance's answers: an image in neither is fine as long as it exists; an unknown id is 404.
    assert api.delete(f"{base}/cache/{image_id}", timeout=10).status_code == 204
    assert api.delete(f"{base}/cache/{uuid.uuid4()}", timeout=10).status_code == 404


def test_deleting_an_image_drops_its_copy(cloud: Cloud, api: requests.Session) -> None:
    image_id = _image(cloud, api, os.urandom(1000))
    assert api.put(f"{_base(cloud)}/cache/{image_id}", timeout=10).status_code == 202
    _cached(cloud, api, image_id)
    assert api.delete(f"{_base(cloud)}/images/{image_id}", timeout=10).status_code == 204
    assert image_id not in [e["image_id"] for e in _state(cloud, api)["cached_images"]]
    assert not os.path.exists(os.path.join(_cache_dir(cloud), image_id))
    assert api.delete(f"{_base(cloud)}/cache/{image_id}", timeout=10).status_code == 404


def test_the_least_recently_used_is_pruned_past_the_limit(cloud: Cloud, api: requests.Session) -> None:
    first, second = _image(cloud, api, os.urandom(2 * MIB)), _image(cloud, api, os.urandom(2 * MIB))
    assert api.put(f"{_base(cloud)}/cache/{first}", timeout=10).status_code == 202
    _cached(cloud, api, first)
    assert api.put(f"{_base(cloud)}/cache/{second}", timeout=10).status_code == 202
    _cached(cloud, api, second)
    cached = [e["image_id"] for e in _state(cloud, api)["cached_images"]]
    assert second in cached and first not in cached, cached  # 4 MiB > the 3 MiB limit: the older one went
    assert not os.path.exists(os.path.join(_cache_dir(cloud), first))
    assert sum(e["size"] for e in _state(cloud, api)["cached_images"]) <= 3 * MIB


def test_clearing_the_cache_the_queue_or_both(cloud: Cloud, api: requests.Session) -> None:
    base = _base(cloud)
    cached_id = _image(cloud, api, os.urandom(1000))
    assert api.put(f"{base}/cache/{cached_id}", timeout=10).status_code == 202
    _cached(cloud, api, cached_id)
    waiting = _image(cloud, api, os.urandom(1000))
    time.sleep(1)  # the prefetcher's round that cached the first one has ended: it does not see the next
    runtime = cloud.aio.runtime
    assert runtime is not None
    now = types.utcnow()
    with runtime.database("image").writer() as s:  # queued, the prefetcher not told yet
        s.add(CachedImage(node=runtime.conf.host, image_id=waiting, state="queued", size=0, hits=0,
                          last_accessed=now, last_modified=now))
    assert waiting in _state(cloud, api)["queued_images"]

    resp = api.delete(f"{base}/cache", headers={"x-image-cache-clear-target": "everything"}, timeout=10)
    assert resp.status_code == 400 and "x-image-cache-clear-target" in resp.json()["error"]["message"]
    assert api.delete(f"{base}/cache", headers={"x-image-cache-clear-target": "cache"}, timeout=10).status_code == 204
    state = _state(cloud, api)
    assert state["cached_images"] == [] and waiting in state["queued_images"], state
    assert os.listdir(_cache_dir(cloud)) == []
    assert api.delete(f"{base}/cache", headers={"x-image-cache-clear-target": "queue"}, timeout=10).status_code == 204
    assert _state(cloud, api)["queued_images"] == []

    assert api.put(f"{base}/cache/{cached_id}", timeout=10).status_code == 202
    _cached(cloud, api, cached_id)
    assert api.delete(f"{base}/cache", timeout=10).status_code == 204  # no header: both
    assert _state(cloud, api) == {"cached_images": [], "queued_images": []}


def test_only_admins_manage_the_cache(cloud: Cloud, api: requests.Session) -> None:
    member = cloud.connection(cloud.new_user(roles=("member", "reader"), prefix="cache")).session
    base = _base(cloud)
    own = member.post(f"{base}/images", json={"name": "m", "disk_format": "raw", "container_format": "bare"}).json()
    member.put(f"{base}/images/{own['id']}/file", data=b"x" * 100, headers={"Content-Type": "application/octet-stream"})
    for method, path in (("GET", "/cache"), ("DELETE", "/cache"), ("PUT", f"/cache/{own['id']}"),
                         ("DELETE", f"/cache/{own['id']}")):
        resp = member.request(base + path, method, raise_exc=False)
        assert resp.status_code == 403, (method, path, resp.text)
    assert own["id"] not in _state(cloud, api)["queued_images"]
