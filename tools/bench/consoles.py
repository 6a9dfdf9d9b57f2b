"""Remote consoles: time from asking the API for a console to the guest's first bytes through the proxy, and
to its first framebuffer update drawn by noVNC in a browser; the noVNC proxy's memory with many consoles open.

    python -m tools.bench.consoles [--tries 5] [--open 20] [--db sqlite|URL] [--transport rabbit://...]
                                   [--no-browser]

The services run as separate processes over RabbitMQ (``tools.bench.compute``'s multi-process cloud), plus
``nubis-novncproxy`` in a process of its own, so its resident memory is the proxy's alone. The guests are the
fake driver's, whose VNC server sends a one-colour 64x48 framebuffer. The browser figure is headless Chromium
(Debian's ``chromium``, ``chromium-driver``) loading noVNC's ``vnc_lite.html`` from the proxy (Debian's
``novnc`` package) with the console's token, until that colour is on noVNC's canvas: API call, page, websocket,
RFB handshake, first update, drawing. The browser itself is started once, before the clock.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from nubis.compute.virt import fake_console
from tools import chromium
from tools.bench import _service, compute, figures
from tools.console_client import ConsoleClient

RFB = b"RFB 003.008\n"


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kib / 1024


@contextmanager
def _novncproxy(conf: str, port: int) -> Iterator[int]:
    """``nubis-novncproxy`` (started through its entry function: this tree may not be installed)."""
    with open(conf, "a") as f:
        f.write(f"\n[vnc]\nnovncproxy_host = 127.0.0.1\nnovncproxy_port = {port}\n")
    proc = subprocess.Popen([sys.executable, "-c", "from nubis.cmd.service import novncproxy; novncproxy()",
                             "--config-file", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:  # no health URL: wait until it accepts connections
            if proc.poll() is not None:
                raise RuntimeError(f"nubis-novncproxy exited with {proc.returncode}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("nubis-novncproxy did not start listening")
            time.sleep(0.2)
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def _console_path(api: str, server_id: str) -> str:
    """Ask the API for a noVNC console; the websocket path (with its token) its URL hands to noVNC."""
    resp = requests.post(f"{api}/v2.1/servers/{server_id}/remote-consoles", headers=compute.HEADERS, timeout=60,
                         json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    resp.raise_for_status()
    return urllib.parse.parse_qs(urllib.parse.urlsplit(resp.json()["remote_console"]["url"]).query)["path"][0]


def _open(api: str, server_id: str, proxy_port: int) -> tuple[ConsoleClient, float]:
    """Ask for a console and read the guest's greeting through the proxy; (the open socket, seconds)."""
    started = time.perf_counter()
    path = _console_path(api, server_id)
    client = ConsoleClient(urllib.parse.urlsplit(path).query)
    client.connect(f"ws://127.0.0.1:{proxy_port}/", origin=f"http://127.0.0.1:{proxy_port}")
    data = b""
    while len(data) < len(RFB):
        chunk = client.recv()
        if chunk is None:
            raise RuntimeError("the proxy closed the console before the guest's greeting")
        data += chunk
    if data[:len(RFB)] != RFB:
        raise RuntimeError(f"unexpected greeting {data[:32]!r}")
    return client, time.perf_counter() - started


# Resolves once pixel (0, 0) of noVNC's canvas has the fake framebuffer's colour, checked every animation frame.
_FIRST_FRAME_JS = """
const [red, green, blue, done] = arguments;
function look() {
    const canvas = document.querySelector('#screen canvas');
    if (canvas && canvas.width > 0) {
        const pixel = canvas.getContext('2d').getImageData(0, 0, 1, 1).data;
        if (pixel[0] === red && pixel[1] === green && pixel[2] === blue) { done(true); return; }
    }
    requestAnimationFrame(look);
}
look();
"""


def _first_frame_in_browser(api: str, server_id: str, proxy_port: int, browser: Any) -> float:
    """Seconds from asking the API for a console to noVNC drawing the guest's first framebuffer update."""
    started = time.perf_counter()
    path = _console_path(api, server_id)
    browser.get(f"http://127.0.0.1:{proxy_port}/vnc_lite.html?path={urllib.parse.quote(path)}")
    browser.execute_async_script(_FIRST_FRAME_JS, *fake_console.COLOUR)
    return time.perf_counter() - started


def _boot(api: str, image: str, flavor: str) -> str:
    """A server to open consoles of, once the compute agent (its own process) has registered with the scheduler."""
    for _ in range(30):
        try:
            return compute.boot_to_active(requests.Session(), api, image, flavor)[0]
        except RuntimeError:  # NoValidHost while the agent is still joining: try again
            time.sleep(2)
    raise RuntimeError("no server became ACTIVE in a minute")


def run(args: argparse.Namespace) -> list[str]:
    with tempfile.TemporaryDirectory() as state, _service.scratch_database(args.db, state, "compute") as db, \
            compute.multi_process(state, db, args.transport) as urls:
        api = urls["compute-api"]
        image, flavor = compute.prepare(urls)
        server_id = _boot(api, image, flavor)
        port = _service.free_port()
        with _novncproxy(os.path.join(state, "nubis.conf"), port) as pid:
            latencies = []
            for _ in range(args.tries):
                client, seconds = _open(api, server_id, port)
                latencies.append(seconds)
                client.close()
            frames = []
            if args.browser:
                browser = chromium.start(800, 600)
                try:
                    browser.set_script_timeout(60)
                    _first_frame_in_browser(api, server_id, port, browser)  # warm: the page's files cached
                    frames = [_first_frame_in_browser(api, server_id, port, browser) for _ in range(args.tries)]
                finally:
                    browser.quit()
            idle = _rss_mib(pid)
            clients = [_open(api, server_id, port)[0] for _ in range(args.open)]
            loaded = _rss_mib(pid)
            for client in clients:
                client.close()
    p50 = statistics.median(latencies) * 1000
    conditions = {"db": args.db.split(":")[0], "driver": "fake", "transport": "rabbit"}
    figures.record("consoles", f"console URL to first RFB bytes, p50 of {args.tries}", p50, "ms", **conditions)
    lines = [f"  console URL to first RFB bytes: p50 {p50:6.1f} ms (of {args.tries})"]
    if frames:
        frame_p50 = statistics.median(frames) * 1000
        figures.record("consoles", f"console URL to first framebuffer drawn by noVNC in Chromium, p50 of "
                                   f"{args.tries}", frame_p50, "ms", **conditions, browser="chromium headless")
        lines.append(f"  console URL to first framebuffer in the browser: p50 {frame_p50:6.1f} ms "
                     f"(of {args.tries}: {', '.join(f'{f * 1000:.0f}' for f in frames)})")
    figures.record("consoles", "novncproxy RSS, idle", idle, "MiB", **conditions)
    figures.record("consoles", f"novncproxy RSS, {args.open} consoles open", loaded, "MiB", **conditions)
    return [*lines, f"  novncproxy RSS: idle {idle:6.1f} MiB, {args.open} consoles open {loaded:6.1f} MiB"]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tools.bench.consoles")
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--open", type=int, default=20)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a server URL without a database name")
    parser.add_argument("--transport", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--no-browser", dest="browser", action="store_false",
                        help="skip the browser figure (it needs chromium, chromium-driver and novnc)")
    for line in run(parser.parse_args(argv)):
        print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
