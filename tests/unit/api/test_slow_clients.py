"""Slow and stalled clients cannot starve an API server of its threads (slowloris)."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from nubis.api import deploy, faults, framing, front, server
from tests import fixtures
from tests.unit.api import sample_app

THREADS = 4
USER = {"X-User-Id": "u1", "X-Project-Id": "p1", "X-Roles": "member"}


@pytest.fixture
def served(conf):  # type: ignore[no-untyped-def]
    conf.set_override("auth_strategy", "noauth", group="api")
    limits = server.ClientLimits(header_timeout=1.0, body_timeout=1.0, socket_timeout=5.0, max_connections=200)
    http = server.HttpServer("slow", "127.0.0.1", fixtures.free_port(), sample_app.build(conf), threads=THREADS,
                             shutdown_timeout=2, limits=limits)
    http.start()
    try:
        yield http
    finally:
        http.stop()


def _connect(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if data:
        sock.sendall(data)
    return sock


@contextlib.contextmanager
def _stalled(port: int, count: int, data: bytes) -> Iterator[list[socket.socket]]:
    socks = [_connect(port, data) for _ in range(count)]
    try:
        yield socks
    finally:
        for sock in socks:
            sock.close()


def _read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


PARTIAL_LINE = b"GET /healthch"
PARTIAL_BODY = (b"POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\nX-User-Id: u1\r\nX-Project-Id: p1\r\nX-Roles: member\r\n\r\n{\"thing\"")


def test_stalled_clients_do_not_hold_the_threads(served) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{served.port}"
    with _stalled(served.port, 3 * THREADS, PARTIAL_LINE) as lines, \
            _stalled(served.port, 3 * THREADS, PARTIAL_BODY) as bodies, \
            _stalled(served.port, THREADS, b"") as silent:
        began = time.monotonic()
        assert requests.get(url + "/healthcheck", timeout=2).status_code == 200
        created = requests.post(url + "/v1/things", json={"thing": {"name": "a"}}, headers=USER, timeout=2)
        assert created.status_code == 201 and created.json() == {"thing": {"name": "a"}}
        assert time.monotonic() - began < 2
        # After the header/body timeout every stalled client is told so and closed.
        for sock in lines + bodies:
            assert _read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
        for sock in silent:
            assert _read_until_closed(sock) == b""
        assert time.monotonic() - began < 4


def test_a_slow_but_steady_client_is_still_served(served) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"thing": {"name": "slow"}}).encode()
    head = (b"POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-User-Id: u1\r\nX-Project-Id: p1\r\nX-Roles: member\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
    with _stalled(served.port, 3 * THREADS, PARTIAL_LINE), socket.create_connection(("127.0.0.1", served.port)) as sock:
        for piece in (head[:10], head[10:], body[:5], body[5:]):
            sock.sendall(piece)
            time.sleep(0.2)
        reply = _read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 201 ") and reply.endswith(body)


def test_keep_alive_pipelining_chunked_and_expect_continue(served) -> None:  # type: ignore[no-untyped-def]
    body = b'{"thing": {"name": "b"}}'
    chunked = (b"POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"X-User-Id: u1\r\nX-Project-Id: p1\r\nX-Roles: member\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n" % 10 + body[:10] + b"\r\n" + b"%x\r\n" % (len(body) - 10) + body[10:] + b"\r\n0\r\n\r\n")
    two_gets = b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n" * 2
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        sock.sendall(two_gets + chunked[:30])
        time.sleep(0.2)
        sock.sendall(chunked[30:])
        replies = b""
        while not replies.endswith(body):
            replies += sock.recv(65536)
        assert re.findall(rb"HTTP/1\.1 (\d{3}) ", replies) == [b"200", b"200", b"201"]

        # Expect: 100-continue is answered by the front, once, before the body is sent.
        sock.sendall(b"POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"X-User-Id: u1\r\nX-Project-Id: p1\r\nX-Roles: member\r\nExpect: 100-continue\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
        assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        reply = _read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 201 ") and b"100 Continue" not in reply


def test_at_the_connection_limit_the_longest_waiting_client_makes_room(conf) -> None:  # type: ignore[no-untyped-def]
    conf.set_override("auth_strategy", "noauth", group="api")
    limits = server.ClientLimits(header_timeout=30.0, max_connections=8)
    http = server.HttpServer("full", "127.0.0.1", fixtures.free_port(), sample_app.build(conf), threads=2,
                             shutdown_timeout=2, limits=limits)
    http.start()
    try:
        with _stalled(http.port, 8, PARTIAL_LINE) as socks:
            for _ in range(3):
                assert requests.get(f"http://127.0.0.1:{http.port}/healthcheck", timeout=2,
                                    headers={"Connection": "close"}).status_code == 200
            assert _read_until_closed(socks[0]).startswith(b"HTTP/1.1 408 ")
    finally:
        http.stop()


def test_an_answer_before_a_large_body_does_not_wait_for_the_body(conf) -> None:  # type: ignore[no-untyped-def]
    """Bodies over the limit (image data) reach the app streamed; when it answers without reading
    (405, 401, 404), the thread does not wait for the client to trickle the rest."""
    conf.set_override("auth_strategy", "noauth", group="api")
    spec = deploy.ApiSpec(name="streamed", routes=sample_app.ROUTES, fault_format=faults.compute_fault,
                          body_limit_exempt=lambda environ: True)
    http = server.HttpServer("streamed", "127.0.0.1", fixtures.free_port(), deploy.build_app(spec, conf, None),
                             threads=2, shutdown_timeout=2, limits=server.ClientLimits(socket_timeout=30.0))
    http.start()
    try:
        head = b"PUT /v1/things/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
        with _stalled(http.port, 4, head + b"\0" * 200000) as socks:
            began = time.monotonic()
            for sock in socks:
                reply = _read_until_closed(sock)
                assert reply.startswith(b"HTTP/1.1 405 ") and b"Connection: close" in reply
            assert time.monotonic() - began < 2 + front.LINGER_SECONDS
            assert requests.get(f"http://127.0.0.1:{http.port}/healthcheck", timeout=2).status_code == 200
    finally:
        http.stop()


def test_oversized_head_is_refused(served) -> None:  # type: ignore[no-untyped-def]
    with _connect(served.port, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (framing.MAX_HEAD_BYTES + 10)) as sock:
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 431 ")


@pytest.mark.parametrize(("data", "verdict"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\n", framing.Verdict.INCOMPLETE),
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", framing.Verdict.READY),
    (b"\r\nGET / HTTP/1.1\r\n\r\n", framing.Verdict.READY),
    (b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nabc", framing.Verdict.INCOMPLETE),
    (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde", framing.Verdict.READY),
    (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", framing.Verdict.READY),
    (b"POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", framing.Verdict.READY),  # streamed or refused
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", framing.Verdict.INCOMPLETE),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n", framing.Verdict.READY),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: 1\r\n", framing.Verdict.INCOMPLETE),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", framing.Verdict.READY),  # cheroot says 400
    (b"GET / HTTP/1.1\r\nX: " + b"a" * framing.MAX_HEAD_BYTES, framing.Verdict.HEAD_TOO_LARGE),
])
def test_framing(data: bytes, verdict: framing.Verdict) -> None:
    assert framing.judge(data, body_limit=1000)[0] is verdict
