"""Allocation candidates and claims at 1,000 and 10,000 providers.

    python -m tools.bench.placement [--providers 1000,10000] [--db sqlite|URL] [--requests 30]

Each provider has VCPU 64, MEMORY_MB 262144, DISK_GB 2000. The placement API
runs in its own standalone process (1 worker, as deployed) with auth disabled so
the numbers are placement's own; providers are loaded straight into the
database (loading them through the API is not what is measured).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import sqlalchemy as sa

from nubis.common.db import engine as db_engine
from nubis.common.db import migration
from nubis.placement.db import migration_repo
from nubis.placement.db.models import Inventory, ResourceProvider
from tools.bench import _service, figures

# X-Auth-Token "admin": the reference placement's noauth2 wants it (tools.bench.peers); Nubis's noauth ignores it.
HEADERS = {"OpenStack-API-Version": "placement 1.39", "X-Roles": "admin", "X-Project-Id": "bench",
           "X-User-Id": "bench", "X-Auth-Token": "admin"}
REQUEST = "/allocation_candidates?resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20"


def load_providers(url: str, count: int) -> None:
    db = db_engine.Database(url)
    migration.upgrade(db, migration_repo())
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        rows = [{"uuid": str(uuid.uuid4()), "name": f"compute-{i:05d}", "generation": 1} for i in range(count)]
        conn.execute(sa.insert(ResourceProvider), rows)
        conn.execute(sa.update(ResourceProvider).values(root_provider_id=ResourceProvider.id))
        ids = list(conn.scalars(sa.select(ResourceProvider.id)))
        invs = []
        for rp_id in ids:
            for rc, total in (("VCPU", 64), ("MEMORY_MB", 262144), ("DISK_GB", 2000)):
                invs.append({"resource_provider_id": rp_id, "resource_class": rc, "total": total, "reserved": 0,
                             "min_unit": 1, "max_unit": total, "step_size": 1, "allocation_ratio": 1.0})
        conn.execute(sa.insert(Inventory), invs)
    engine.dispose()
    db.dispose()


@contextmanager
def placement_server(url: str, state: str) -> Iterator[str]:
    port = _service.free_port()
    conf = os.path.join(state, "nubis.conf")
    with open(conf, "w") as f:
        f.write(f"[DEFAULT]\nstate_path = {state}\n[api]\nauth_strategy = noauth\n[database]\nconnection = {url}\n"
                f"[placement]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = 1\n")
    with _service.running("nubis-placement", conf, port) as base:
        yield base


def latencies(base: str, path: str, n: int) -> tuple[float, float, int]:
    http = requests.Session()
    times = []
    found = 0
    for _ in range(n):
        started = time.perf_counter()
        resp = http.get(base + path, headers=HEADERS, timeout=120)
        times.append((time.perf_counter() - started) * 1000)
        resp.raise_for_status()
        found = len(resp.json()["allocation_requests"])
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], found


def claims_per_second(base: str, concurrency: int, seconds: float) -> tuple[float, int]:
    http_base = base
    candidates = requests.get(base + REQUEST + "&limit=1000", headers=HEADERS, timeout=120).json()
    targets = list(candidates["provider_summaries"])
    done = [0, 0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        http = requests.Session()
        i = index
        while time.monotonic() < stop:
            rp = targets[i % len(targets)]
            i += concurrency
            resp = http.put(f"{http_base}/allocations/{uuid.uuid4()}", headers=HEADERS, timeout=60, json={
                "allocations": {rp: {"resources": {"VCPU": 2, "MEMORY_MB": 4096, "DISK_GB": 20}}},
                "project_id": "bench", "user_id": "bench", "consumer_generation": None,
                "consumer_type": "INSTANCE"})
            with lock:
                done[0 if resp.status_code == 204 else 1] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started), done[1]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", default="1000,10000")
    parser.add_argument("--db", default="sqlite", help="sqlite, or a server URL such as mysql+pymysql://root@127.0.0.1")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)
    for count in (int(c) for c in args.providers.split(",")):
        with tempfile.TemporaryDirectory() as state, _service.scratch_database(args.db, state, "placement") as url:
            load_providers(url, count)
            with placement_server(url, state) as base:
                backend = sa.engine.make_url(url).get_backend_name()
                p50, p95, n = latencies(base, REQUEST + "&limit=1000", args.requests)
                print(f"{backend:10s} {count:6d} providers  candidates limit=1000: p50 {p50:7.1f} ms  "
                      f"p95 {p95:7.1f} ms  ({n} returned)", flush=True)
                figures.record("placement", "allocation candidates limit=1000 p50", p50, "ms", backend=backend,
                               providers=count)
                p50, p95, n = latencies(base, REQUEST, max(5, args.requests // 3))
                print(f"{backend:10s} {count:6d} providers  candidates no limit:   p50 {p50:7.1f} ms  "
                      f"p95 {p95:7.1f} ms  ({n} returned)", flush=True)
                rate, lost = claims_per_second(base, 10, 10)
                print(f"{backend:10s} {count:6d} providers  claims at concurrency 10: {rate:6.1f}/s "
                      f"({lost} refused)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
