"""A large image goes in and out of a standalone image service intact, in constant memory.

The check is the service's peak RSS (VmHWM): moving 1.5 GiB must not grow it by more
than a few chunks' worth, which it would if any layer buffered the body.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import requests

from tests import fixtures

GIB = 1024**3
CHUNK = 1024 * 1024
HEADERS = {"X-User-Id": "u", "X-Project-Id": "p", "X-Roles": "admin,member,reader"}


def _peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _wait_until_up(proc: subprocess.Popen, base: str, log: Path) -> None:  # type: ignore[type-arg]
    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"nubis-image exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            return requests.get(base + "/healthcheck", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    fixtures.wait_until(answers, timeout=30, what="nubis-image to answer /healthcheck")


def _payload(total: int, seed: bytes, digest: hashlib._Hash) -> Iterator[bytes]:
    block = hashlib.sha512(seed).digest() * (CHUNK // 64)
    sent = 0
    while sent < total:
        piece = block[: min(CHUNK, total - sent)]
        digest.update(piece)
        sent += len(piece)
        yield piece


def test_one_and_a_half_gib_in_constant_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = fixtures.free_port()
    conf = tmp_path / "nubis.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[api]\nauth_strategy = noauth\n"
                    f"[image]\nbind_host = 127.0.0.1\nbind_port = {port}\n")
    bindir = os.path.dirname(sys.executable)
    subprocess.run([os.path.join(bindir, "nubis-manage"), "--config-file", str(conf), "db", "sync", "image"],
                   check=True, capture_output=True)
    log = tmp_path / "image.log"
    # The log goes to a file: an unread pipe would fill up and block the service.
    proc = subprocess.Popen([os.path.join(bindir, "nubis-image"), "--config-file", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    try:
        _wait_until_up(proc, base, log)
        image = http.post(base + "/v2/images", headers=HEADERS, timeout=10, json={
            "name": "big", "disk_format": "raw", "container_format": "bare"}).json()
        before = _peak_rss_mib(proc.pid)
        total = GIB + GIB // 2
        sent = hashlib.sha512()
        resp = http.put(f"{base}/v2/images/{image['id']}/file", data=_payload(total, b"nubis", sent),
                            headers={**HEADERS, "Content-Type": "application/octet-stream"}, timeout=600)
        assert resp.status_code == 204, resp.text
        shown = http.get(f"{base}/v2/images/{image['id']}", headers=HEADERS, timeout=10).json()
        assert shown["size"] == total and shown["os_hash_value"] == sent.hexdigest()
        got = hashlib.sha512()
        with http.get(f"{base}/v2/images/{image['id']}/file", headers=HEADERS, stream=True, timeout=600) as r:
            assert r.status_code == 200 and int(r.headers["Content-Length"]) == total
            for chunk in r.iter_content(CHUNK):
                got.update(chunk)
        assert got.hexdigest() == sent.hexdigest()
        growth = _peak_rss_mib(proc.pid) - before
        assert growth < 64, f"the image service grew by {growth:.0f} MiB moving a {total // 2**20} MiB image"
    finally:
        # Close our keep-alive connections first: the service would otherwise
        # give an idle one its whole shutdown grace period.
        http.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
