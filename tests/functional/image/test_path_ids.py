"""Ids in paths that no image or member can have: 404 in the image API's format, and the connection lives on."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.functional.cloud import Cloud

# Non-ASCII, a 4-byte character, NUL (which PostgreSQL cannot even compare), a control character, too long.
ODD_IDS = ["%C3%A9", "%F0%9F%98%80", "%00", "a%0Ab", "x" * 37, "%C3%A9" * 40]


@pytest.fixture(scope="module")
def connection(cloud: Cloud) -> Iterator[http.client.HTTPConnection]:
    """One keep-alive connection, carrying the admin's token."""
    url = urllib.parse.urlsplit(cloud.url("image"))
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.token = cloud.connection().session.get_token()  # type: ignore[attr-defined]
    yield conn
    conn.close()


def _request(cloud: Cloud, conn: http.client.HTTPConnection, method: str, path: str,
             body: bytes | None = None, content_type: str = "application/json") -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"X-Auth-Token": conn.token, "Content-Type": content_type}  # type: ignore[attr-defined]
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    return resp.status, json.loads(raw) if raw else {}


def test_odd_image_ids_are_not_found_on_every_route(cloud: Cloud, connection: http.client.HTTPConnection) -> None:
    status, image = _request(cloud, connection, "POST", "/v2/images",
                             json.dumps({"name": "real", "visibility": "shared"}).encode())
    assert status == 201
    routes = [("GET", "", None, "application/json"), ("DELETE", "", None, "application/json"),
              ("PATCH", "", b"[]", "application/openstack-images-v2.1-json-patch"),
              ("GET", "/file", None, "application/json"), ("PUT", "/file", b"data", "application/octet-stream"),
              ("PUT", "/stage", b"data", "application/octet-stream"),
              ("POST", "/import", b'{"method": {"name": "glance-direct"}}', "application/json"),
              ("POST", "/actions/deactivate", None, "application/json"),
              ("POST", "/actions/reactivate", None, "application/json"),
              ("PUT", "/tags/t", None, "application/json"), ("DELETE", "/tags/t", None, "application/json"),
              ("GET", "/members", None, "application/json"),
              ("POST", "/members", b'{"member": "p"}', "application/json"),
              ("GET", "/members/p", None, "application/json"), ("DELETE", "/members/p", None, "application/json"),
              ("PUT", "/members/p", b'{"status": "accepted"}', "application/json")]
    for odd in ODD_IDS:
        for method, suffix, body, content_type in routes:
            status, error = _request(cloud, connection, method, f"/v2/images/{odd}{suffix}", body, content_type)
            assert status == 404, (method, odd, suffix, status, error)
            assert error["error"]["code"] == 404 and "image" in error["error"]["message"]
            # The same connection still serves the next request.
            status, shown = _request(cloud, connection, "GET", f"/v2/images/{image['id']}")
            assert status == 200 and shown["id"] == image["id"]


def test_odd_member_ids_and_tags_on_a_real_image(cloud: Cloud, connection: http.client.HTTPConnection) -> None:
    status, image = _request(cloud, connection, "POST", "/v2/images",
                             json.dumps({"name": "shared", "visibility": "shared"}).encode())
    assert status == 201
    for odd in ODD_IDS + ["m" * 256]:
        for method, body in (("GET", None), ("DELETE", None), ("PUT", b'{"status": "accepted"}')):
            status, error = _request(cloud, connection, method, f"/v2/images/{image['id']}/members/{odd}", body)
            assert status == 404 and error["error"]["code"] == 404, (method, odd, error)
        status, error = _request(cloud, connection, "DELETE", f"/v2/images/{image['id']}/tags/{odd}")
        assert status == 404 and error["error"]["code"] == 404, (odd, error)
    status, shown = _request(cloud, connection, "GET", f"/v2/images/{image['id']}")
    assert status == 200 and shown["tags"] == []


def test_an_empty_image_id_is_not_found(cloud: Cloud, connection: http.client.HTTPConnection) -> None:
    """``GET /v2/images/`` and ``DELETE /v2/images/`` name an image with an empty id: 404, as Glance answers
    (not the list, nor a 405 of the collection)."""
    for method in ("GET", "DELETE", "PATCH"):
        status, body = _request(cloud, connection, method, "/v2/images/")
        assert status == 404, (method, status, body)
    status, body = _request(cloud, connection, "GET", "/v2/images")
    assert status == 200 and "images" in body


def test_image_tasks(cloud: Cloud, connection: http.client.HTTPConnection) -> None:
    """``GET /v2/images/{id}/tasks`` (2.12): a visible image's import tasks (none for an image never imported);
    404 otherwise."""
    status, image = _request(cloud, connection, "POST", "/v2/images", json.dumps({"name": "t"}).encode())
    assert status == 201
    assert _request(cloud, connection, "GET", f"/v2/images/{image['id']}/tasks") == (200, {"tasks": []})
    status, _ = _request(cloud, connection, "GET", "/v2/images/00000000-0000-0000-0000-000000000000/tasks")
    assert status == 404
