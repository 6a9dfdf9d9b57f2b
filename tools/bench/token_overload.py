"""Password logins under overload: many clients asking for tokens at once.

    python -m tools.bench.token_overload [--duration 15] [--concurrency 10,50] [--workers 1] [--db sqlite] [--burst]

Runs the standalone ``nubis-identity`` (Keystone's default bcrypt cost 12) and
``c`` client threads that each POST /v3/auth/tokens in a loop. Prints
successful issues per second, p50/p99 latency of the successful ones, and how
many were shed with 503 (``[identity] password_hash_queue``); a shed client waits
its ``Retry-After`` before trying again, as a well-behaved client does. ``--burst``
sends ``c`` logins at the same instant, once, and prints when each got its answer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time

import requests

from tools.bench import _service
from tools.bench.identity import identity_server, password_body


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def run(base: str, password: str, concurrency: int, duration: float) -> dict[str, float]:
    body = json.dumps(password_body(password))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client() -> None:
        with requests.Session() as http:
            while time.monotonic() < deadline:
                began = time.monotonic()
                retry_after = 0.0
                try:
                    resp = http.post(base + "/v3/auth/tokens", data=body, timeout=120,
                                     headers={"Content-Type": "application/json"})
                    status = resp.status_code
                    retry_after = float(resp.headers.get("Retry-After", 0))
                except requests.RequestException:
                    status = 0
                took = time.monotonic() - began
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 201:
                        latencies.append(took)
                # A well-behaved client (keystoneauth with retries) waits as told before trying again.
                time.sleep(min(retry_after, max(0.0, deadline - time.monotonic())))

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {"rps": len(latencies) / elapsed, "p50": _percentile(latencies, 50) * 1000,
            "p99": _percentile(latencies, 99) * 1000, "ok": len(latencies),
            "shed": statuses.get(503, 0), "other": sum(n for s, n in statuses.items() if s not in (201, 503))}


def burst(base: str, password: str, concurrency: int) -> dict[str, float]:
    """``concurrency`` logins sent at the same instant, once: when does each caller get its answer?"""
    body = json.dumps(password_body(password))
    start = threading.Barrier(concurrency)
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def client() -> None:
        start.wait()
        began = time.monotonic()
        try:
            status = requests.post(base + "/v3/auth/tokens", data=body, timeout=300,
                                   headers={"Content-Type": "application/json"}).status_code
        except requests.RequestException:
            status = 0
        with lock:
            results.append((status, time.monotonic() - began))

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [took for status, took in results if status == 201]
    shed = [took for status, took in results if status == 503]
    return {"ok": len(ok), "p50": _percentile(ok, 50) * 1000, "p99": _percentile(ok, 99) * 1000,
            "first": min(ok, default=float("nan")) * 1000, "shed": len(shed),
            "shed_p99": _percentile(shed, 99) * 1000}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--concurrency", default="10,50")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--memcached", default="127.0.0.1:11211")
    parser.add_argument("--burst", action="store_true", help="one simultaneous burst per level instead of a loop")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch, \
            _service.scratch_database(args.db, scratch, "identity") as db_url, \
            identity_server(db_url, args.memcached, args.workers) as (base, pw):
        print(f"nubis-identity: {args.workers} worker(s), {args.db}, bcrypt cost 12, {os.cpu_count()} cores "
              f"shared with the clients, {args.duration:g}s/run")
        for c in (int(x) for x in args.concurrency.split(",")):
            if args.burst:
                b = burst(base, pw, c)
                print(f"burst c={c:<3d} ok {b['ok']}: first {b['first']:6.0f} ms  p50 {b['p50']:6.0f} ms  "
                      f"p99 {b['p99']:6.0f} ms   shed(503) {b['shed']} within {b['shed_p99']:.0f} ms", flush=True)
                continue
            r = run(base, pw, c, args.duration)
            print(f"issue c={c:<3d} {r['rps']:6.2f} tokens/s   p50 {r['p50']:8.0f} ms   p99 {r['p99']:8.0f} ms   "
                  f"ok {r['ok']}   shed(503) {r['shed']}   other {r['other']}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
