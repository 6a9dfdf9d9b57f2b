"""Port creation rate (API + IPAM) at concurrency 10.

    python -m tools.bench.network [--db mysql+pymysql://root@127.0.0.1] [--workers 2] [--seconds 15]

The network API runs as its own process (``--workers`` API processes, as
deployed), auth disabled so the figure is the network service's own, on a
scratch database. Ports are created on one network with a /16 subnet, each
getting a MAC, an address, the project's default security group and a
history row; a concurrency-1 run gives the single-request latency.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time

import requests

from nubis.common.db import engine as db_engine
from nubis.common.db import migration
from nubis.network.db import migration_repo
from tools.bench import _service

HEADERS = {"X-Roles": "member,reader", "X-Project-Id": "bench-project", "X-User-Id": "bench-user"}


def network_server(url: str, state: str, workers: int):  # type: ignore[no-untyped-def]
    db = db_engine.Database(url)
    migration.upgrade(db, migration_repo())
    db.dispose()
    port = _service.free_port()
    conf = os.path.join(state, "nubis.conf")
    with open(conf, "w") as f:
        f.write(f"[DEFAULT]\nstate_path = {state}\n[api]\nauth_strategy = noauth\n[database]\nconnection = {url}\n"
                f"[network]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = {workers}\n"
                "[quotas]\nquota_port = -1\n")
    return _service.running("nubis-network", conf, port)


def create_ports(base: str, network_id: str, concurrency: int, seconds: float) -> tuple[float, list[float], int]:
    times: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        http = requests.Session()
        while time.monotonic() < stop:
            started = time.perf_counter()
            resp = http.post(f"{base}/v2.0/ports", headers=HEADERS, timeout=60,
                             json={"port": {"network_id": network_id}})
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if resp.status_code == 201:
                    times.append(elapsed)
                else:
                    failures[0] += 1

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(times) / (time.monotonic() - began), sorted(times), failures[0]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a server URL such as mysql+pymysql://root@127.0.0.1")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as state, _service.scratch_database(args.db, state, "network") as url, \
            network_server(url, state, args.workers) as base:
        http = requests.Session()
        net = http.post(f"{base}/v2.0/networks", headers=HEADERS, json={"network": {"name": "bench"}}).json()
        http.post(f"{base}/v2.0/subnets", headers=HEADERS, json={"subnet": {
            "network_id": net["network"]["id"], "ip_version": 4, "cidr": "10.0.0.0/16"}}).raise_for_status()
        print(f"network API: {args.workers} worker(s), auth off, db {args.db}", flush=True)
        for concurrency in (1, 10):
            rate, times, failed = create_ports(base, net["network"]["id"], concurrency, args.seconds)
            print(f"port create c={concurrency:<2}: {rate:6.1f} ports/s  p50 {statistics.median(times):6.1f} ms  "
                  f"p95 {times[int(len(times) * 0.95) - 1]:6.1f} ms  ({len(times)} ports, {failed} failed)",
                  flush=True)
        print("port binding to ACTIVE: not measured (needs the network agent, not built yet)")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
