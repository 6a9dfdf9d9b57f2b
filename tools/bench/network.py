"""Port creation rate (API + IPAM) at concurrency 10, and how long a bound port takes to go ACTIVE.

    python -m tools.bench.network [--db mysql+pymysql://root@127.0.0.1] [--workers 2] [--seconds 15]
                                  [--transport rabbit://guest:guest@127.0.0.1:5672/]

The network API runs as its own process (``--workers`` API processes, as
deployed), auth disabled so the figure is the network service's own, on a
scratch database. Ports are created on one network with a /16 subnet, each
getting a MAC, an address, the project's default security group and a
history row; a concurrency-1 run gives the single-request latency.

Then a network agent process (no-op data plane, as on a host of fake guests)
joins over RabbitMQ, and ports are created with ``binding:host_id`` one at a
time: the figure is the time until the API shows them ACTIVE (API, fanout to
the agent, the agent's host sync, its status report).
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
from tools.bench import _service, figures

HEADERS = {"X-Roles": "member,reader", "X-Project-Id": "bench-project", "X-User-Id": "bench-user"}


def network_server(url: str, state: str, workers: int, transport: str):  # type: ignore[no-untyped-def]
    db = db_engine.Database(url)
    migration.upgrade(db, migration_repo())
    db.dispose()
    port = _service.free_port()
    conf = os.path.join(state, "nubis.conf")
    with open(conf, "w") as f:
        f.write(f"[DEFAULT]\nstate_path = {state}\nhost = bench-host\ntransport_url = {transport}\n"
                f"[api]\nauth_strategy = noauth\n[database]\nconnection = {url}\n"
                f"[network]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = {workers}\n"
                "[quotas]\nquota_port = -1\n"
                "[network_agent]\ndataplane = noop\npoll_interval = 0.1\nreport_interval = 2\n")
    return conf, _service.running("nubis-network", conf, port)


def bind_to_active(base: str, network_id: str, samples: int) -> list[float]:
    http = requests.Session()
    admin = {**HEADERS, "X-Roles": "admin,member,reader"}
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        port = http.post(f"{base}/v2.0/ports", headers=admin, timeout=60, json={"port": {
            "network_id": network_id, "binding:host_id": "bench-host", "device_owner": "compute:nova",
            "device_id": "bench"}}).json()["port"]
        while http.get(f"{base}/v2.0/ports/{port['id']}", headers=admin, timeout=60).json()["port"]["status"] \
                != "ACTIVE":
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"port {port['id']} not ACTIVE after 60 s")
            time.sleep(0.005)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


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
    parser.add_argument("--transport", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as state, _service.scratch_database(args.db, state, "network") as url:
        conf, server = network_server(url, state, args.workers, args.transport)
        with server as base:
            run(base, conf, args)


def run(base: str, conf: str, args: argparse.Namespace) -> None:
    http = requests.Session()
    net = http.post(f"{base}/v2.0/networks", headers=HEADERS, json={"network": {"name": "bench"}}).json()
    http.post(f"{base}/v2.0/subnets", headers=HEADERS, json={"subnet": {
        "network_id": net["network"]["id"], "ip_version": 4, "cidr": "10.0.0.0/16"}}).raise_for_status()
    print(f"network API: {args.workers} worker(s), auth off, db {args.db}", flush=True)
    for concurrency in (1, 10):
        rate, times, failed = create_ports(base, net["network"]["id"], concurrency, args.seconds)
        figures.record("network", "port create rate", rate, "ports/s", concurrency=concurrency, db=args.db,
                       workers=args.workers)
        print(f"port create c={concurrency:<2}: {rate:6.1f} ports/s  p50 {statistics.median(times):6.1f} ms  "
              f"p95 {times[int(len(times) * 0.95) - 1]:6.1f} ms  ({len(times)} ports, {failed} failed)",
              flush=True)
    fresh = http.post(f"{base}/v2.0/networks", headers=HEADERS, json={"network": {"name": "bound"}}).json()
    http.post(f"{base}/v2.0/subnets", headers=HEADERS, json={"subnet": {
        "network_id": fresh["network"]["id"], "ip_version": 4, "cidr": "10.1.0.0/24"}}).raise_for_status()
    with _service.running_rpc("nubis-network-agent", conf, settle=3.0):
        # On a small network, then on the one holding every port made above (the host sync carries its
        # DHCP entries, so it grows with the network).
        for label, network_id in (("small network", fresh["network"]["id"]),
                                  ("the big network", net["network"]["id"])):
            times = bind_to_active(base, network_id, args.samples)
            figures.record("network", "port bound to ACTIVE p50", statistics.median(times), "ms", network=label)
            print(f"port create with binding:host_id to ACTIVE ({label}, no-op agent over RabbitMQ): p50 "
                  f"{statistics.median(times):6.1f} ms  p95 {times[int(len(times) * 0.95) - 1]:6.1f} ms  "
                  f"({len(times)} ports)", flush=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
