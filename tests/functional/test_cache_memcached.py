"""The cache region on two real memcached servers: one killed is a miss, never an error."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from dogpile.cache.api import NO_VALUE
from oslo_config import cfg

from nubis.common import cache
from tools import ports

MEMCACHED = shutil.which("memcached") or "/usr/bin/memcached"
pytestmark = pytest.mark.skipif(not os.path.exists(MEMCACHED), reason="memcached is not installed")


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _memcached(port: int) -> subprocess.Popen[bytes]:
    user = ["-u", "memcache"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([MEMCACHED, *user, "-l", "127.0.0.1", "-p", str(port), "-m", "8"])
    deadline = time.monotonic() + 10
    while not _accepts(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


@pytest.fixture
def servers() -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    started = []
    for _ in range(2):
        port = ports.free_port()
        started.append((port, _memcached(port)))
    yield started
    for _, proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def test_a_killed_memcached_is_a_cache_miss(servers: list[tuple[int, subprocess.Popen[bytes]]]) -> None:
    conf = cfg.ConfigOpts()
    cache.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("backend", cache.MEMCACHE_BACKEND, group="cache")
    conf.set_override("memcache_servers", [f"127.0.0.1:{port}" for port, _ in servers], group="cache")
    region = cache.make_region(conf, "test")
    keys = [f"key-{i}" for i in range(40)]
    region.set_multi({k: k.upper() for k in keys})
    assert region.get_multi(keys) == [k.upper() for k in keys]  # both servers hold part of the keys

    servers[0][1].send_signal(signal.SIGKILL)
    servers[0][1].wait(timeout=10)

    # The pooled connections to the killed server fail first, then its reconnects are refused: neither
    # reaches the caller. The keys it held are misses; the others are still read from the live server.
    for _ in range(3):
        got = region.get_multi(keys)
        assert NO_VALUE in got
        assert any(v is not NO_VALUE for v in got)
        assert region.get(keys[0]) in (NO_VALUE, "KEY-0")
        region.set("written-while-down", 1)
        region.delete(keys[1])
