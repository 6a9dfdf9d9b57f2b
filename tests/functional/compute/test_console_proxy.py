"""The console proxies end to end: API token -> nubis-novncproxy / nubis-serialproxy -> the fake guest's console.

The fake driver's consoles are tiny TCP responders (an RFB 3.8 server to its ServerInit, a serial line), so the test sees
exactly what a browser's noVNC would first read through the proxy.
"""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from nubis.compute.virt import fake_console
from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.compute import conftest
from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status
from tests.functional.compute.test_consoles import token_of
from tools.console_client import open_console, read


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[ComputeCloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("consoles")
    services = [*conftest.SERVICES, "novncproxy", "spicehtml5proxy", "serialproxy"]
    with cloud_fixture.running_cloud(tmp, services, extra_config=conftest.CONFIG) as base:
        c = ComputeCloud(base.aio)
        c.drivers, c.stoppables = {}, []
        yield c


def _console(cloud: ComputeCloud, server_id: str, protocol: str, kind: str) -> str:
    resp = requests.post(f"{cloud.url('compute-api')}/v2.1/servers/{server_id}/remote-consoles", timeout=30,
                         json={"remote_console": {"protocol": protocol, "type": kind}},
                         headers={"X-Auth-Token": cloud.connection().session.get_token(),
                                  "OpenStack-API-Version": "compute 2.6"})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["remote_console"]["url"])


@pytest.fixture(scope="module")
def server(cloud: ComputeCloud, image_id: str, flavor_id: str) -> Any:
    return wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id).id, "ACTIVE")


def test_novnc_proxy_reaches_the_guests_rfb_server(cloud: ComputeCloud, server: Any) -> None:
    url = _console(cloud, server.id, "vnc", "novnc")
    proxy = f"http://127.0.0.1:{cloud.aio.port(next(s for s in cloud.aio.services if s.name == 'novncproxy'))}"
    assert url.startswith(f"{proxy}/vnc_auto.html?path=")
    client = open_console(url, token_of(url), origin=proxy)
    assert read(client, len(fake_console.RFB_BANNER)) == b"RFB 003.008\n"
    # The client's answers go through to the guest's RFB server: security type None, then its ServerInit.
    client.send(b"RFB 003.008\n")
    assert read(client, 2) == b"\x01\x01"
    client.send(b"\x01")
    assert read(client, 4) == b"\x00\x00\x00\x00"
    client.send(b"\x01")
    init = read(client, 24 + len(b"nubis-fake"))
    assert init[:4] == b"\x00\x40\x00\x30"  # a 64x48 framebuffer
    assert int.from_bytes(init[20:24], "big") == len(init) - 24 and init[24:] == b"nubis-fake"
    # A full update request brings the framebuffer back, raw, in the pixel format the client set (16-bit
    # big-endian 5-6-5 here); an incremental one brings nothing (nothing changed), input is taken silently.
    client.send(b"\x00\x00\x00\x00" + bytes([16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0]))
    client.send(b"\x02\x00\x00\x01\x00\x00\x00\x00" + b"\x05\x00\x00\x10\x00\x10")
    client.send(b"\x03\x00\x00\x00\x00\x00\x00\x40\x00\x30")
    update = read(client, 16 + 64 * 48 * 2)
    header, pixels = update[:16], update[16:]
    assert header == b"\x00\x00\x00\x01" + b"\x00\x00\x00\x00\x00\x40\x00\x30" + b"\x00\x00\x00\x00"
    assert len(pixels) == 64 * 48 * 2
    red, green, blue = fake_console.COLOUR
    assert pixels[:2] == ((red * 31 // 255) << 11 | (green * 63 // 255) << 5 | blue * 31 // 255).to_bytes(2, "big")
    assert len(set(pixels[i:i + 2] for i in range(0, len(pixels), 2))) == 1
    client.send(b"\x03\x01\x00\x00\x00\x00\x00\x40\x00\x30")
    client.close()
    # Tokens are good until they expire (Nova's rule): noVNC reconnects with the same one.
    again = open_console(url, token_of(url), origin=proxy)
    assert read(again, 12) == b"RFB 003.008\n"
    again.close()


def test_serial_proxy_reaches_the_guests_serial_port(cloud: ComputeCloud, server: Any) -> None:
    url = _console(cloud, server.id, "serial", "serial")
    client = open_console(url, token_of(url), origin=None)  # not a browser: no Origin
    assert read(client, len(fake_console.SERIAL_BANNER)).startswith(b"NUBIS-GUEST-UP")
    client.send(b"ls\r\n")
    assert read(client, 4) == b"ls\r\n"
    client.close()


def _raw_refusal(url: str, token: str) -> bytes:
    """What follows the headers of a refused upgrade, read as Tempest's noVNC test does (token in a cookie).

    Nova's proxy closes a bad token's connection without sending anything; an error page here would be read
    as websocket frames.
    """
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall((f"GET /websockify HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nCookie: token={token}\r\n"
                      "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403 The console token is invalid"), head
    return rest


def test_proxies_refuse_bad_tokens_and_foreign_origins(cloud: ComputeCloud, server: Any,
                                                       image_id: str, flavor_id: str) -> None:
    url = _console(cloud, server.id, "vnc", "novnc")
    proxy = url.split("/vnc_auto.html")[0]

    def refused(token: str, origin: str | None, target: str = url) -> str:
        with pytest.raises(Exception, match="WebSocket request denied: 403") as caught:
            open_console(target, token, origin)
        return str(caught.value)

    refused("not-a-token", proxy)
    assert _raw_refusal(url, "bad" + token_of(url)) == b""

    refused(token_of(url), "http://evil.example.com")
    serial = _console(cloud, server.id, "serial", "serial")
    refused(token_of(serial), proxy)  # a serial token at the noVNC proxy
    refused(token_of(url), None, serial)  # and the other way round

    # A deleted server's tokens die with it.
    conn = cloud.connection()
    doomed = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    doomed_url = _console(cloud, doomed.id, "vnc", "novnc")
    conn.compute.delete_server(doomed)
    conn.compute.wait_for_delete(doomed, wait=30)
    refused(token_of(doomed_url), proxy)

    # An expired token.
    conf = cloud.aio.runtime.conf  # type: ignore[union-attr]
    conf.set_override("token_ttl", 1, group="console")
    try:
        short = _console(cloud, server.id, "vnc", "novnc")
    finally:
        conf.clear_override("token_ttl", group="console")
    fixtures.wait_until(lambda: requests.get(
        f"{cloud.url('compute-api')}/v2.1/os-console-auth-tokens/{token_of(short)}", timeout=10,
        headers={"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.31"}
    ).status_code == 404, timeout=5, what="the token to expire")
    refused(token_of(short), proxy)

    # Plain GETs: no static client configured here, so nothing is served (and never a directory listing).
    assert requests.get(f"{proxy}/", timeout=10).status_code in (404, 405)


def test_novnc_proxy_serves_the_static_client_from_its_directory(tmp_path: Any) -> None:
    from nubis.console import proxy

    web = tmp_path / "novnc"
    web.mkdir()
    (web / "vnc_auto.html").write_text("<html>noVNC</html>")
    (tmp_path / "secret.txt").write_text("not for browsers")
    running = proxy.start(proxy.ProxySettings("novncproxy", ("novnc",), (), str(web)), "127.0.0.1",
                          fixtures.free_port(), lambda token: None)
    try:
        base = f"http://127.0.0.1:{running.server.port}"
        page = requests.get(f"{base}/vnc_auto.html", timeout=10)
        assert page.status_code == 200 and "noVNC" in page.text
        assert requests.get(f"{base}/../secret.txt", timeout=10).status_code == 404
        assert requests.get(f"{base}/", timeout=10).status_code == 404  # no directory listings
    finally:
        running.stop()


def test_proxy_speaks_tls_where_configured(tmp_path: Any) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from nubis.console import proxy

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    web = tmp_path / "web"
    web.mkdir()
    (web / "vnc_lite.html").write_text("noVNC over TLS")
    running = proxy.start(proxy.ProxySettings("novncproxy", ("novnc",), (), str(web)), "127.0.0.1",
                          fixtures.free_port(), lambda token: None, proxy.ssl_context(str(cert_file), str(key_file)))
    try:
        import socket

        silent = socket.create_connection(("127.0.0.1", running.server.port))  # never handshakes
        page = requests.get(f"https://127.0.0.1:{running.server.port}/vnc_lite.html", verify=str(cert_file),
                            timeout=10)
        assert page.status_code == 200 and page.text == "noVNC over TLS"
        silent.close()
    finally:
        running.stop()


def test_single_use_tokens_open_one_connection(cloud: ComputeCloud, server: Any) -> None:
    conf = cloud.aio.runtime.conf  # type: ignore[union-attr]
    url = _console(cloud, server.id, "serial", "serial")
    conf.set_override("single_use", True, group="console")
    try:
        first = open_console(url, token_of(url), origin=None)
        assert read(first, len(fake_console.SERIAL_BANNER)).startswith(b"NUBIS-GUEST-UP")
        with pytest.raises(Exception, match="WebSocket request denied: 403"):
            open_console(url, token_of(url), origin=None)
        first.close()
    finally:
        conf.clear_override("single_use", group="console")


def test_spice_proxy_reaches_the_guests_spice_server(cloud: ComputeCloud, server: Any) -> None:
    conf = cloud.aio.runtime.conf  # type: ignore[union-attr]
    conf.set_override("enabled", True, group="spice")
    try:
        url = _console(cloud, server.id, "spice", "spice-html5")
    finally:
        conf.clear_override("enabled", group="spice")
    assert "/spice_auto.html?token=" in url
    client = open_console(url, token_of(url), origin=url.split("/spice_auto.html")[0])
    assert read(client, 4) == fake_console.SPICE_BANNER
    client.close()
