"""``nubis all-in-one`` as a user runs it: start, use with the CLI, stop, start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from nubis import services
from tests import fixtures
from tools import ports

NUBIS = os.path.join(os.path.dirname(sys.executable), "nubis")
OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")

pytestmark = pytest.mark.skipif("identity" not in services.available(), reason="needs the identity service")


def _free_offset() -> int:
    return ports.free_service_offset()


def _start(state_dir: str, offset: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [NUBIS, "all-in-one", "--state-dir", state_dir, "--port-offset", str(offset)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Stop with Ctrl-C" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("all-in-one did not come up:\n" + "".join(lines))


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


def _openrc_env(state_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    with open(os.path.join(state_dir, "openrc")) as f:
        for line in f:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                env[key] = value
    return env


def _cli(env: dict[str, str], *args: str) -> Any:
    import json

    out = subprocess.run([OPENSTACK, *args, "-f", "json"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_all_in_one_start_use_stop_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = str(tmp_path / "state")
    offset = _free_offset()
    proc, banner = _start(state, offset)
    try:
        assert "Nubis all-in-one is up in" in banner
        assert f"source {state}/openrc" in banner
        assert oct(os.stat(os.path.join(state, "secrets.json")).st_mode & 0o777) == "0o600"
        for name in services.available():
            port = services.load(name).port
            if port and services.load(name).build_api:
                assert requests.get(f"http://127.0.0.1:{port + offset}/healthcheck", timeout=5).status_code == 200
        # The Prometheus exporter runs in the all-in-one too, on its port plus the offset, and reads the cloud.
        exporter = f"http://127.0.0.1:{services.load('exporter').port + offset}"
        assert requests.get(f"{exporter}/healthcheck", timeout=5).status_code == 200
        scraped = requests.get(f"{exporter}/metrics", timeout=60)
        assert scraped.status_code == 200, scraped.text
        assert "openstack_identity_up 1.0" in scraped.text and "openstack_nova_up 1.0" in scraped.text, scraped.text
        env = _openrc_env(state)
        token = _cli(env, "token", "issue")
        assert token["project_id"] and token["user_id"]
        catalog = {entry["Type"] for entry in _cli(env, "catalog", "list")}
        assert "identity" in catalog
    finally:
        assert _stop(proc) == 0

    # The second start reuses state: same credentials, nothing bootstrapped twice.
    proc, _ = _start(state, offset)
    try:
        env = _openrc_env(state)
        assert _cli(env, "token", "issue")["user_id"] == token["user_id"]
        assert {entry["Type"] for entry in _cli(env, "catalog", "list")} == catalog
        assert [u["Name"] for u in _cli(env, "user", "list")].count("admin") == 1
    finally:
        assert _stop(proc) == 0


def test_a_failed_start_stops_what_it_started(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Bootstrap refuses the admin password (a rule it cannot meet): start fails and leaves nothing running."""
    import threading

    from nubis.cmd import all_in_one

    port = fixtures.free_port()
    before = set(threading.enumerate())
    aio = all_in_one.AllInOne(all_in_one.Options(
        state_dir=str(tmp_path), services=["identity"], ports={"identity": port}, setup_logging=False,
        extra_config={"security_compliance": {"password_regex": "^impossible$"}}))
    with pytest.raises(Exception, match="password"):
        aio.start()
    assert aio.running == []
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("CP Server")]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nobody listens any more
