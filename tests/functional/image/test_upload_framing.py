"""Uploads in pieces of odd sizes, chunked and with a length, store what was sent: size, MD5 and SHA-512 agree
with hashlib's over the same bytes, and the connection stays usable after a chunked body (trailers included).
"""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.parse
from collections.abc import Iterator

import requests

from tests.functional.cloud import Cloud

# Odd sizes on purpose: smaller than, equal to and across the service's 1 MiB buffers, none aligned.
SIZES = [1, 7, 4095, 65537, 1024 * 1024 + 3, 3, 2 * 1024 * 1024 - 1, 999_999, 13]


def _headers(cloud: Cloud) -> dict[str, str]:
    return {"X-Auth-Token": cloud.connection().session.get_token()}


def _create(cloud: Cloud) -> str:
    resp = requests.post(f"{cloud.url('image')}/v2/images", headers=_headers(cloud), timeout=10,
                         json={"name": "odd", "disk_format": "raw", "container_format": "bare"})
    resp.raise_for_status()
    return str(resp.json()["id"])


def _pieces() -> list[bytes]:
    return [os.urandom(n) for n in SIZES]


def _assert_stored(cloud: Cloud, image_id: str, data: bytes) -> None:
    shown = requests.get(f"{cloud.url('image')}/v2/images/{image_id}", headers=_headers(cloud), timeout=10).json()
    assert shown["status"] == "active"
    assert shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()  # noqa: S324 - the API's checksum is MD5
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    got = requests.get(f"{cloud.url('image')}/v2/images/{image_id}/file", headers=_headers(cloud), timeout=60)
    assert got.status_code == 200 and got.content == data


def test_chunked_upload_of_odd_pieces(cloud: Cloud) -> None:
    pieces = _pieces()
    image_id = _create(cloud)

    def body() -> Iterator[bytes]:
        yield from pieces  # a generator: requests sends one transfer chunk per piece

    resp = requests.put(f"{cloud.url('image')}/v2/images/{image_id}/file", data=body(), timeout=60,
                        headers={**_headers(cloud), "Content-Type": "application/octet-stream"})
    assert resp.status_code == 204, resp.text
    _assert_stored(cloud, image_id, b"".join(pieces))


def test_content_length_upload_of_odd_size(cloud: Cloud) -> None:
    data = b"".join(_pieces())
    image_id = _create(cloud)
    resp = requests.put(f"{cloud.url('image')}/v2/images/{image_id}/file", data=data, timeout=60,
                        headers={**_headers(cloud), "Content-Type": "application/octet-stream"})
    assert resp.status_code == 204, resp.text
    _assert_stored(cloud, image_id, data)


def _read_response(f) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    status = int(f.readline().split()[1])
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, f.read(length)


def test_chunk_extensions_trailers_and_a_pipelined_request(cloud: Cloud) -> None:
    """Framing a client library does not produce: extensions, upper-case hex, trailers, then the next request
    sent in the same write. The data is stored intact and the next request is answered on the same connection."""
    pieces = _pieces()
    image_id = _create(cloud)
    url = urllib.parse.urlsplit(cloud.url("image"))
    token = _headers(cloud)["X-Auth-Token"]
    body = b"".join(b"%X;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\nX-Trailer: yes\r\n\r\n"
    head = (f"PUT {url.path}/v2/images/{image_id}/file HTTP/1.1\r\nHost: {url.netloc}\r\nX-Auth-Token: {token}\r\n"
            "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    follow = (f"GET {url.path}/v2/images/{image_id} HTTP/1.1\r\nHost: {url.netloc}\r\nX-Auth-Token: {token}\r\n"
              "\r\n").encode()
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock, sock.makefile("rb") as f:
        sock.sendall(head + body + follow)
        status, text = _read_response(f)
        assert status == 204, text
        status, text = _read_response(f)
        assert status == 200, text
        assert b'"status": "active"' in text or b'"status":"active"' in text
    _assert_stored(cloud, image_id, b"".join(pieces))
