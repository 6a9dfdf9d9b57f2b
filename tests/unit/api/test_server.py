"""A standalone service process: worker processes, and a graceful SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import requests

from tests import fixtures

LAUNCH = (
    "import sys; from nubis import services; "
    "services.SERVICE_MODULES['sample'] = 'tests.unit.api.sample_service'; "
    "from nubis.cmd import service; sys.exit(service.run('sample', sys.argv[1:]))"
)


def _start(tmp_path, workers: int) -> tuple[subprocess.Popen[bytes], str]:  # type: ignore[no-untyped-def]
    port = fixtures.free_port()
    conf = tmp_path / "nubis.conf"
    conf.write_text(
        f"[DEFAULT]\nstate_path = {tmp_path}\n"
        f"[sample]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = {workers}\n"
        "[api]\nauth_strategy = noauth\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, "--config-file", str(conf)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthcheck", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.stderr.read().decode() if proc.stderr else "did not start")


def test_workers_share_the_port(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc, url = _start(tmp_path, workers=2)
    try:
        pids = set()
        deadline = time.monotonic() + 20
        while len(pids) < 2 and time.monotonic() < deadline:
            # New connections each time so the kernel can pick another worker.
            pids.add(requests.get(url + "/pid", headers={"Connection": "close"}, timeout=5).json()["pid"])
        assert len(pids) == 2 and proc.pid not in pids
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_sigterm_finishes_in_flight_requests(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc, url = _start(tmp_path, workers=1)
    result: dict[str, object] = {}

    def slow_call() -> None:
        try:
            resp = requests.get(url + "/slow?seconds=2", timeout=30)
            result["status"], result["body"] = resp.status_code, resp.json()
        except requests.RequestException as exc:
            result["error"] = exc

    caller = threading.Thread(target=slow_call)
    caller.start()
    time.sleep(0.5)  # the request is now in flight
    proc.send_signal(signal.SIGTERM)
    caller.join(timeout=30)
    assert result.get("status") == 200, result
    assert result["body"] == {"pid": result["body"]["pid"], "slept": True}  # type: ignore[index]
    assert proc.wait(timeout=30) == 0
    # And nothing listens any more.
    try:
        requests.get(url + "/pid", timeout=2)
        raise AssertionError("still serving after SIGTERM")
    except requests.ConnectionError:
        pass
