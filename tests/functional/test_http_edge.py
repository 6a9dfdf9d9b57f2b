"""Every API of a running cloud at its edge: hostile input, Host headers, /metrics, stalled clients, state files."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator

import pytest
import requests

from nubis import services
from tests import fixtures
from tests.functional import cloud as cloud_fixture

pytestmark = pytest.mark.skipif("identity" not in services.available(), reason="needs the identity service")

APIS = ["identity", "image", "placement", "compute-api", "network"]
CONFIG = {
    "identity": {"password_hash_rounds": "4"},
    # Nobody the tests run as may read /metrics: every API must then refuse it.
    "api": {"metrics_allowed_cidrs": "192.0.2.0/24", "client_header_timeout": "1", "client_body_timeout": "1"},
}

# Per API: a route that parses a JSON body, a route that reads the query string, and how its fault looks.
HOSTILE = {
    "identity": ("/v3/auth/tokens", "/v3/users", lambda b: b["error"]["code"] == 400 and b["error"]["message"]),
    "image": ("/v2/images", "/v2/images", lambda b: b["error"]["code"] == 400 and b["error"]["message"]),
    "placement": ("/resource_providers", "/resource_providers",
                  lambda b: b["errors"][0]["status"] == 400 and b["errors"][0]["detail"]),
    "compute-api": ("/v2.1/servers", "/v2.1/servers", lambda b: b["badRequest"]["code"] == 400 and b["badRequest"]["message"]),
    "network": ("/v2.0/networks", "/v2.0/networks", lambda b: b["NeutronError"]["type"] and b["NeutronError"]["message"]),
}
FORBIDDEN = {
    "identity": lambda b: b["error"]["code"] == 403,
    "image": lambda b: b["error"]["code"] == 403,
    "placement": lambda b: b["errors"][0]["status"] == 403,
    "compute-api": lambda b: b["forbidden"]["code"] == 403,
    "network": lambda b: b["NeutronError"]["type"] == "Forbidden",
}


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory) -> Iterator[cloud_fixture.Cloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("edge")
    with cloud_fixture.running_cloud_on(request.param, tmp, APIS, CONFIG) as c:
        yield c


@pytest.fixture(scope="module")
def token(cloud) -> str:  # type: ignore[no-untyped-def]
    return str(cloud.connection().session.get_token())


def test_deep_json_and_bad_encodings_are_400_in_each_apis_format(cloud, token) -> None:  # type: ignore[no-untyped-def]
    deep = b"[" * 50000 + b"]" * 50000
    for name, (post_path, get_path, fault) in HOSTILE.items():
        base = cloud.url(name)
        headers = {"X-Auth-Token": token, "Content-Type": "application/json",
                   "OpenStack-API-Version": "placement 1.20"}
        resp = requests.post(base + post_path, data=deep, headers=headers, timeout=30)
        assert resp.status_code == 400, (name, resp.status_code, resp.text[:300])
        assert "64 levels" in fault(resp.json()), (name, resp.text[:300])
        for query in ("?x=%ff", "?%ff=1", "?name=%C3%28"):
            resp = requests.get(base + get_path + query, headers=headers, timeout=30)
            assert resp.status_code == 400, (name, query, resp.status_code, resp.text[:300])
            assert "UTF-8" in fault(resp.json()), (name, resp.text[:300])
        resp = requests.get(base + get_path + "/%ff", headers=headers, timeout=30)
        assert resp.status_code == 400 and "UTF-8" in fault(resp.json()), (name, resp.text[:300])


def _links_and_locations(resp: requests.Response) -> str:
    return resp.text + " " + resp.headers.get("Location", "")


def test_links_name_the_public_endpoint_never_the_host_header(cloud, token) -> None:  # type: ignore[no-untyped-def]
    evil = {"Host": "evil.example:666", "X-Auth-Token": token}
    seen = {}
    for name, paths in {"identity": ["/", "/v3", "/v3/users", "/v3/projects"], "image": ["/", "/v2/images"],
                        "placement": ["/"], "compute-api": ["/", "/v2.1", "/v2.1/flavors"],
                        "network": ["/", "/v2.0", "/v2.0/networks"]}.items():
        for path in paths:
            resp = requests.get(cloud.url(name) + path, headers=evil, timeout=30, allow_redirects=False)
            assert resp.status_code < 400, (name, path, resp.status_code, resp.text[:300])
            assert "evil.example" not in _links_and_locations(resp), (name, path, resp.text[:500])
            seen[(name, path)] = _links_and_locations(resp)
    # The version documents link to the catalog's URL instead.
    for name, path in [("identity", "/v3"), ("compute-api", "/v2.1"), ("image", "/"), ("network", "/v2.0")]:
        assert cloud.url(name) + "/" in seen[(name, path)], (name, seen[(name, path)][:500])

    # Location headers of creations, too.
    image = requests.post(cloud.url("image") + "/v2/images", json={"name": "edge", "disk_format": "raw",
                                                                   "container_format": "bare"},
                          headers={**evil, "Content-Type": "application/json"}, timeout=30)
    assert image.status_code == 201, image.text
    assert image.headers["Location"].startswith(cloud.url("image") + "/v2/images/")
    requests.delete(image.headers["Location"], headers={"X-Auth-Token": token}, timeout=30)
    created = requests.put(cloud.url("placement") + "/resource_classes/CUSTOM_EDGE",
                           headers={**evil, "OpenStack-API-Version": "placement 1.7"}, timeout=30)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == cloud.url("placement") + "/resource_classes/CUSTOM_EDGE"


def test_metrics_refused_outside_the_allowed_networks_on_every_api(cloud, token) -> None:  # type: ignore[no-untyped-def]
    for name, fault in FORBIDDEN.items():
        for headers in ({}, {"X-Auth-Token": token}):
            resp = requests.get(cloud.url(name) + "/metrics", headers=headers, timeout=30)
            assert resp.status_code == 403, (name, resp.status_code, resp.text[:300])
            assert fault(resp.json()) and "nubis_http_requests" not in resp.text, (name, resp.text[:300])


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_stalled_clients_do_not_starve_the_all_in_one(cloud) -> None:  # type: ignore[no-untyped-def]
    threads = 16  # what the all-in-one gives each API
    stalled: list[socket.socket] = []
    try:
        for name in ("identity", "compute-api"):
            for data in (b"GET /v3/auth/tok", b"POST /v2.1/servers HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{"):
                for _ in range(3 * threads):
                    sock = socket.create_connection(("127.0.0.1", _port(cloud.url(name))), timeout=10)
                    sock.sendall(data)
                    stalled.append(sock)
        began = time.monotonic()
        conn = cloud.connection()
        assert conn.session.get_token()  # identity issues a token
        assert requests.get(cloud.url("compute-api") + "/v2.1", timeout=2).status_code == 200
        assert time.monotonic() - began < 2
        for sock in stalled:  # closed after the header (body) timeout, with a 408
            received = b""
            while chunk := sock.recv(4096):
                received += chunk
            assert received.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - began < 5
    finally:
        for sock in stalled:
            sock.close()


def _modes(root: str) -> dict[str, int]:
    found = {}
    for directory, _, files in os.walk(root):
        found[directory] = stat.S_IMODE(os.lstat(directory).st_mode)
        for name in files:
            path = os.path.join(directory, name)
            found[path] = stat.S_IMODE(os.lstat(path).st_mode)
    return found


def test_state_is_readable_by_its_owner_only(cloud, token) -> None:  # type: ignore[no-untyped-def]
    image = requests.post(cloud.url("image") + "/v2/images", json={"name": "private", "disk_format": "raw",
                                                                   "container_format": "bare"},
                          headers={"X-Auth-Token": token}, timeout=30).json()
    uploaded = requests.put(f"{cloud.url('image')}/v2/images/{image['id']}/file", data=b"secret bytes" * 100,
                            headers={"X-Auth-Token": token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert uploaded.status_code == 204, uploaded.text
    state = cloud.aio.state_dir
    modes = _modes(state)
    loose = {path: oct(mode) for path, mode in modes.items() if mode & 0o077}
    assert not loose, loose
    names = {os.path.relpath(p, state) for p in modes}
    assert {"secrets.json", "all-in-one.conf", "openrc", "clouds.yaml", "logs", "images"} <= names
    assert any(n.startswith("fernet-keys" + os.sep) for n in names)
    assert any(n.startswith("images" + os.sep) for n in names)  # the uploaded image's data
    if cloud.aio.runtime and cloud.aio.runtime.database("identity").is_sqlite:
        assert any(n.endswith(".sqlite") for n in names)
    assert os.umask(0o077) == 0o077


def test_an_older_state_directory_is_made_private_on_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    (state / "images").mkdir(parents=True)
    for path, mode in ((state, 0o755), (state / "images", 0o755)):
        path.chmod(mode)
    (state / "images" / "leftover").write_bytes(b"x")
    (state / "images" / "leftover").chmod(0o644)
    (state / "nubis.log").write_text("old log\n")
    (state / "nubis.log").chmod(0o664)
    with cloud_fixture.running_cloud(state, [], extra_config={"identity": {"password_hash_rounds": "4"}}):
        modes = _modes(str(state))
    assert {p: oct(m) for p, m in modes.items() if m & 0o077} == {}
    assert modes[str(state)] == 0o700 and modes[str(state / "images" / "leftover")] == 0o600
