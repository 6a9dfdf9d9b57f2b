"""Scheduler select_destinations end to end: RPC → placement candidates → filters → weighers → claims.

    python -m tools.bench.scheduler [--hosts 1000] [--boots 50] [--db sqlite|URL]

An in-process cloud (identity, placement, scheduler; keystone auth between
them) with ``--hosts`` compute hosts loaded straight into the placement and
scheduler databases (VCPU 64, MEMORY_MB 262144, DISK_GB 2000 each; the pinned
run adds 2 NUMA cells of 16 dedicated CPUs and 2 MB pages).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa

from nubis.cmd import all_in_one
from nubis.common import context
from nubis.common.db import types
from nubis.placement.db.models import Inventory, ResourceProvider
from nubis.scheduler import rpcapi
from nubis.scheduler.db.models import ComputeHost
from nubis.scheduler.request_spec import Flavor, RequestSpec
from tools.bench import _service, figures

CELLS = [{"id": c, "cpus": list(range(c * 20 + 4, c * 20 + 20)), "shared_cpus": list(range(c * 20, c * 20 + 4)),
          "memory_mb": 65536, "pages": {"2048": 32768}} for c in range(2)]


def load_hosts(placement_url: str, scheduler_url: str, count: int) -> None:
    placement = sa.create_engine(placement_url)
    with placement.begin() as conn:
        rows = [{"uuid": str(uuid.uuid4()), "name": f"compute-{i:05d}", "generation": 1} for i in range(count)]
        conn.execute(sa.insert(ResourceProvider), rows)
        conn.execute(sa.update(ResourceProvider).values(root_provider_id=ResourceProvider.id))
        ids = dict(conn.execute(sa.select(ResourceProvider.id, ResourceProvider.uuid)).all())
        conn.execute(sa.insert(Inventory), [
            {"resource_provider_id": rp_id, "resource_class": rc, "total": total, "reserved": 0, "min_unit": 1,
             "max_unit": total, "step_size": 1, "allocation_ratio": 1.0}
            for rp_id in ids for rc, total in (("VCPU", 64), ("PCPU", 32), ("MEMORY_MB", 262144), ("DISK_GB", 2000))])
    placement.dispose()
    scheduler = sa.create_engine(scheduler_url)
    with scheduler.begin() as conn:
        conn.execute(sa.insert(ComputeHost), [
            {"host": f"compute-{i:05d}", "node": f"compute-{i:05d}", "provider_uuid": rp_uuid,
             "availability_zone": "nova", "cell": "cell1", "enabled": True, "capabilities": {},
             "aggregate_metadata": {}, "numa_topology": CELLS, "numa_usage": {}, "generation": 0,
             "updated_at": types.utcnow()}
            for i, rp_uuid in enumerate(ids.values())])
    scheduler.dispose()


def boots(api: rpcapi.SchedulerAPI, flavor: Flavor, n: int) -> list[float]:
    times = []
    for _ in range(n):
        spec = RequestSpec(flavor=flavor, instance_uuids=(str(uuid.uuid4()),), project_id="bench", user_id="bench")
        started = time.perf_counter()
        api.select_destinations(context.admin_context(), spec)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--boots", type=int, default=50)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as state, _service.scratch_database(args.db, state, "scheduler") as url:
        aio = all_in_one.AllInOne(all_in_one.Options(
            state_dir=state, services=["identity", "placement", "scheduler"],
            ports={n: _service.free_port() for n in ("identity", "placement")},
            extra_config={"database": {"connection": url}, "identity": {"password_hash_rounds": "4"}},
            setup_logging=False))
        aio.start()
        try:
            assert aio.runtime is not None
            load_hosts(url, url, args.hosts)
            api = rpcapi.SchedulerAPI(aio.runtime.messaging, timeout=120)
            backend = sa.engine.make_url(url).get_backend_name()
            for label, flavor in (("plain", Flavor("m1", 2, 4096, 20)),
                                  ("pinned+2MB pages", Flavor("p1", 4, 4096, 20, extra_specs={
                                      "hw:cpu_policy": "dedicated", "hw:mem_page_size": "2MB"}))):
                times = boots(api, flavor, args.boots)
                figures.record("scheduler", f"select_destinations {label.strip()} p50", statistics.median(times),
                               "ms", backend=backend, hosts=args.hosts)
                print(f"{backend:10s} {args.hosts} hosts  select_destinations {label:17s}: "
                      f"p50 {statistics.median(times):6.1f} ms  p95 {times[int(len(times) * 0.95) - 1]:6.1f} ms  "
                      f"({args.boots} boots, one at a time)", flush=True)
        finally:
            aio.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
