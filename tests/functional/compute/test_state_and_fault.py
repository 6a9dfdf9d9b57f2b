"""A server is never seen in ERROR without the fault that explains it (both are one transaction)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import requests

from tests.functional.compute.conftest import ComputeCloud


def _watch(cloud: ComputeCloud, token: str, server_id: str, seen: list[Any], timeout: float = 30) -> None:
    """Read the server as fast as possible until it is in ERROR; record every ERROR read without a fault."""
    url = f"{cloud.url('compute-api')}/v2.1/servers/{server_id}"
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.90"}
    deadline = time.monotonic() + timeout
    with requests.Session() as http:
        while time.monotonic() < deadline:
            server = http.get(url, headers=headers, timeout=10).json()["server"]
            if server["status"] == "ERROR":
                if not server.get("fault"):
                    seen.append(server)
                return
    seen.append(f"{server_id} did not reach ERROR in {timeout}s")


def _boot_and_watch(cloud: ComputeCloud, image_id: str, flavor_id: str, count: int, **kwargs: Any) -> list[Any]:
    conn = cloud.connection()
    token = conn.session.get_token()
    ids = [conn.compute.create_server(name=f"f-{uuid.uuid4().hex[:6]}", image_id=image_id, flavor_id=flavor_id,
                                      networks="none", **kwargs).id for _ in range(count)]
    bad: list[Any] = []
    watchers = [threading.Thread(target=_watch, args=(cloud, token, i, bad)) for i in ids]
    for w in watchers:
        w.start()
    for w in watchers:
        w.join()
    for i in ids:
        conn.compute.delete_server(i)
    return bad


def test_no_valid_host_is_never_error_without_its_fault(cloud: ComputeCloud, image_id: str) -> None:
    huge = cloud.connection().compute.create_flavor(name=f"huge-{uuid.uuid4().hex[:4]}", ram=100_000, vcpus=1, disk=1)
    assert _boot_and_watch(cloud, image_id, huge.id, 3) == []


def test_failed_spawn_is_never_error_without_its_fault(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    for _ in range(3):
        cloud.drivers["compute-2"].fail_next("spawn", "disk image is corrupt")
        assert _boot_and_watch(cloud, image_id, flavor_id, 1, availability_zone="nova:compute-2") == []
