"""What the service benchmarks share: a scratch database and a standalone service process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import sqlalchemy as sa

from tools import ports

BIN = os.path.dirname(sys.executable)


free_port = ports.free_port


@contextmanager
def scratch_database(server_url: str, state: str, label: str) -> Iterator[str]:
    """``sqlite`` gives a file under ``state``; a server URL gets a new database, dropped afterwards."""
    if server_url == "sqlite":
        yield f"sqlite:///{state}/{label}.sqlite"
        return
    name = f"nubis_bench_{label}_{os.getpid()}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield f"{server_url.rstrip('/')}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def _spawn(console_script: str, conf: str) -> subprocess.Popen[bytes]:
    """The service, logging to ``logs/<script>.log`` next to its config (where to look when a figure is odd)."""
    logs = os.path.join(os.path.dirname(conf), "logs")
    os.makedirs(logs, exist_ok=True)
    return subprocess.Popen([os.path.join(BIN, console_script), "--config-file", conf,
                             "--log-file", os.path.join(logs, f"{console_script}.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def running(console_script: str, conf: str, port: int) -> Iterator[str]:
    """Start ``console_script --config-file conf``; yield its base URL once /healthcheck answers."""
    with running_process(console_script, conf, port) as (base, _pid):
        yield base


@contextmanager
def running_process(console_script: str, conf: str, port: int) -> Iterator[tuple[str, int]]:
    """Like :func:`running`, yielding ``(base URL, pid)`` for benches that watch the process."""
    proc = _spawn(console_script, conf)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/healthcheck", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{console_script} did not start")
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


@contextmanager
def running_rpc(console_script: str, conf: str, settle: float = 2.0) -> Iterator[int]:
    """Start an RPC-only service (no health URL); give it ``settle`` seconds to join the broker."""
    proc = _spawn(console_script, conf)
    try:
        time.sleep(settle)
        if proc.poll() is not None:
            raise RuntimeError(f"{console_script} exited with {proc.returncode}")
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
