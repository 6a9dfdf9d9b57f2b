"""Token issue and cached validate against nubis-identity in its production setup.

    python -m tools.bench.identity [--duration 10] [--concurrency 1,10,50] [--db URL]

Production setup: the standalone ``nubis-identity`` process with 2 worker
processes, MariaDB (a scratch database) and memcached for the validation
cache, Keystone's default bcrypt cost. Load comes from ``wrk`` (Debian package
``wrk``) so the client costs little CPU next to the server on the same host.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from tools.bench import _service, figures

WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.1f %.1f %.1f\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@contextmanager
def identity_server(db_url: str, memcached: str, workers: int,
                    pids: list[int] | None = None) -> Iterator[tuple[str, str]]:
    """A running nubis-identity; yields (base URL, admin password). Its pid is appended to ``pids`` if given."""
    port = _service.free_port()
    password = os.urandom(12).hex()
    with tempfile.TemporaryDirectory() as state:
        conf = os.path.join(state, "nubis.conf")
        with open(conf, "w") as f:
            f.write(f"[DEFAULT]\nstate_path = {state}\n[database]\nconnection = {db_url}\n"
                    f"[cache]\nenabled = true\nbackend = dogpile.cache.pymemcache\nmemcache_servers = {memcached}\n"
                    f"[identity]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = {workers}\n")
        manage = [os.path.join(_service.BIN, "nubis-manage"), "--config-file", conf]
        subprocess.run([*manage, "db", "sync", "identity"], check=True, capture_output=True)
        subprocess.run([*manage, "bootstrap", "--bootstrap-password", password], check=True, capture_output=True)
        with _service.running_process("nubis-identity", conf, port) as (base, pid):
            if pids is not None:
                pids.append(pid)
            yield base, password


def password_body(password: str) -> dict[str, object]:
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}


def run_wrk(url: str, concurrency: int, duration: int, script: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + WRK_REPORT)
    try:
        threads = min(concurrency, 2)
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{duration}s",
                              "--timeout", "30s", "-s", f.name, url],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    count, micros, errors, p50, p95, p99 = (float(v) for v in line.split()[1:])
    seconds = micros / 1e6
    return {"rps": count / seconds, "ok_rps": (count - errors) / seconds, "errors": errors, "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000}


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here (ASCII only)


def bench_validate(base: str, admin_token: str, subject: str, concurrency: int, duration: int) -> dict[str, float]:
    script = (f"wrk.method = 'GET'\nwrk.headers['X-Auth-Token'] = {_lua_string(admin_token)}\n"
              f"wrk.headers['X-Subject-Token'] = {_lua_string(subject)}\n")
    return run_wrk(base + "/v3/auth/tokens", concurrency, duration, script)


def bench_issue(base: str, password: str, concurrency: int, duration: int) -> dict[str, float]:
    body = json.dumps(password_body(password))
    script = (f"wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\n"
              f"wrk.body = {_lua_string(body)}\n")
    return run_wrk(base + "/v3/auth/tokens", concurrency, duration, script)


def hash_ceiling() -> float:
    """Password checks per second this host can do with both cores busy (the issue ceiling)."""
    from nubis.identity import passwords

    hashed = passwords.hash_password("benchmark-password", "bcrypt", 12)
    started = time.perf_counter()
    rounds = 4
    for _ in range(rounds):
        passwords.verify_password("benchmark-password", hashed)
    per_check = (time.perf_counter() - started) / rounds
    return (os.cpu_count() or 1) / per_check


def _row(kind: str, concurrency: int, r: dict[str, float]) -> str:
    return (f"{kind:9s} c={concurrency:<3d} {r['rps']:9.1f} req/s   p50 {r['p50']:7.1f} ms   "
            f"p95 {r['p95']:7.1f} ms   p99 {r['p99']:7.1f} ms   non-2xx/errors {int(r['errors'])}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--concurrency", default="1,10,50")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default="mysql+pymysql://root@127.0.0.1:3306")
    parser.add_argument("--memcached", default="127.0.0.1:11211")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory() as scratch, \
            _service.scratch_database(args.db, scratch, "identity") as db_url, identity_server(db_url, args.memcached, args.workers) as (base, pw):
        resp = requests.post(base + "/v3/auth/tokens", json=password_body(pw), timeout=30)
        admin = resp.headers["X-Subject-Token"]
        subject = requests.post(base + "/v3/auth/tokens", json=password_body(pw), timeout=30).headers[
            "X-Subject-Token"]
        print(f"nubis-identity: {args.workers} workers, MariaDB, memcached {args.memcached}, "
              f"bcrypt cost 12, {os.cpu_count()} cores shared with the load generator (wrk), {args.duration}s/run")
        for kind in ("validate", "issue"):
            for c in levels:
                r = (bench_validate(base, admin, subject, c, args.duration) if kind == "validate"
                     else bench_issue(base, pw, c, args.duration))
                print(_row(kind, c, r), flush=True)
                for key, unit in (("rps", "req/s"), ("p50", "ms"), ("p95", "ms"), ("p99", "ms")):
                    figures.record("identity", f"token {kind} {key}", r[key], unit, concurrency=c,
                                   workers=args.workers, db="MariaDB", cache="memcached")
    ceiling = hash_ceiling()
    print(f"bcrypt ceiling on this host: {ceiling:.1f} password checks/s (all cores)")
    figures.record("identity", "bcrypt ceiling", ceiling, "/s", cost=12)


if __name__ == "__main__":
    main(sys.argv[1:])
