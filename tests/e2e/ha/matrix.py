"""The kill matrix: under a bounded mixed load, SIGKILL one component at a time, restart it, check.

    python -m tests.e2e.ha.matrix --state $NUBIS_STATE [--only api,lb,compute] [--json out.json]

For each step, in a fixed order (an API copy of each API service, the load balancer holding the VIP,
the Galera writer, a RabbitMQ node, a memcached, a conductor, a scheduler, the compute agent in the
middle of a boot): a baseline of load, the kill, a pause, the restart, load until it has run clean
for a window (or a bound passes), then server boots and deletes pause while the consistency checks
run. Prints per component: requests sent, failed (in flight at the kill / other), recovery seconds,
checks passed; writes the same as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.ha import consistency, galera, load, topology
from tests.e2e.ha.cloud import Cloud

# kind -> the goal for failed requests: "in_flight" (none but the requests in flight at the kill)
# or "failover" (failures only while the VIP moves: recovery within FAILOVER_BOUND_S).
GOALS = {"api": "in_flight", "lb": "failover", "galera": "in_flight", "rabbit": "in_flight",
         "memcached": "in_flight", "conductor": "in_flight", "scheduler": "in_flight", "compute": "in_flight"}
ORDER = ("api", "lb", "galera", "rabbit", "memcached", "conductor", "scheduler", "compute")
FAILOVER_BOUND_S = 15.0
BUILD_TASK_STATES = ("scheduling", "block_device_mapping", "networking", "spawning")


@dataclasses.dataclass
class Timings:
    """How long each phase of a step lasts (seconds)."""

    baseline: float = 10.0
    down: float = 5.0
    clean_window: float = 10.0
    recover_bound: float = 90.0
    checks_bound: float = 120.0


@dataclasses.dataclass
class StepResult:
    """What one kill did."""

    component: str
    kind: str
    sent: int
    failed: int
    failed_in_flight: int
    failed_other: int
    in_flight_at_kill: int
    rate: float  # requests/s the load ran at during the step
    recovery_s: float
    restart_s: float
    goal: str
    meets_goal: bool
    checks: list[consistency.CheckResult]
    failures: list[tuple[str, str, int]]
    note: str = ""
    # The failed requests (up to 300; times relative to the kill) and requests/failures per second
    # from 5 s before the kill: what the report says failed, when, and why.
    failed_requests: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    timeline: list[dict[str, float]] = dataclasses.field(default_factory=list)

    @property
    def checks_passed(self) -> int:
        """How many consistency checks passed."""
        return sum(1 for c in self.checks if c.passed)


def plan(topo: topology.Topology, only: set[str] | None = None) -> list[topology.Component]:
    """The components to kill, in the matrix's order; ``only`` keeps the named kinds.

    An ``only`` entry ``api:<service>`` keeps that API service's copy (``api`` alone: every service's).

    The lb master and Galera writer are resolved when their step comes (the VIP may have moved).
    """
    steps: list[topology.Component] = []
    api_only = {o.split(":", 1)[1] for o in only or () if o.startswith("api:")}
    for kind in ORDER:
        if only is not None and kind not in only and not (kind == "api" and api_only):
            continue
        if kind == "api":
            steps += [topo.of_kind("api", s)[0] for s in topo.api_services()
                      if not api_only or "api" in (only or ()) or s in api_only]
        elif kind == "galera":
            writer = galera.writer(topo) or topo.galera_writer()  # the node that holds the connections now
            steps += [writer] if writer else []
        else:
            steps += topo.of_kind(kind)[:1]
    return steps


def _kill_mid_boot(comp: topology.Component, admin: Cloud, setup: load.LoadSetup,
                   log: Callable[[str], None]) -> tuple[float, str]:
    """Boot a server and SIGKILL the compute agent while the server is being built on it."""
    body = {"server": {"name": f"{load.LOAD_PREFIX}-midboot", "flavorRef": setup.flavor_id,
                       "imageRef": setup.image_id, "networks": [{"uuid": setup.network_id}]}}
    server_id = admin.post("compute", "/servers", body)["server"]["id"]
    host = comp.extra.get("host")
    state: dict[str, Any] = {}

    def building() -> bool:
        state.update(admin.get("compute", f"/servers/{server_id}")["server"])
        on_host = host is None or state.get("OS-EXT-SRV-ATTR:host") in (host, None)
        return state["status"] == "BUILD" and state.get("OS-EXT-STS:task_state") in ("spawning", "networking",
                                                                                      "block_device_mapping") \
            and on_host
    if topology.wait_until(building, 30, 0.1):
        log(f"  {server_id} is {state['status']}/{state.get('OS-EXT-STS:task_state')}: killing {comp.name}")
    else:
        log(f"  {server_id} was never seen mid-build ({state.get('status')}/{state.get('OS-EXT-STS:task_state')}): "
            "the fake driver is too fast ([compute] fake_spawn_seconds); killing anyway")
    return comp.kill(), server_id


def run_step(comp: topology.Component, topo: topology.Topology, gen: load.LoadGenerator, admin: Cloud,
             timings: Timings, log: Callable[[str], None], partition: bool = False) -> StepResult:
    """One kill, restart, recovery and check, while ``gen`` runs. ``partition`` (a Galera node): cut the node
    off the network and heal it instead of killing and restarting it."""
    note = ""
    if comp.kind == "lb":
        master = topo.lb_master()
        if master is None:
            raise RuntimeError("no load balancer holds the VIP")
        comp = master
    log(f"== {comp.name} ({comp.kind}{'/' + comp.service if comp.service else ''})")
    begin = time.time()
    time.sleep(timings.baseline)
    extra_accepted: list[str] = []
    if partition:
        kill_at = galera.isolate(comp)
        log(f"  cut off at {kill_at:.1f}")
    elif comp.kind == "compute":
        kill_at, server_id = _kill_mid_boot(comp, admin, gen.setup, log)
        extra_accepted.append(server_id)
        note = f"mid-boot server {server_id}"
    else:
        kill_at = comp.kill()
        log(f"  killed at {kill_at:.1f}")
    time.sleep(timings.down)
    if partition:
        restart_s = galera.heal(topo, comp, timeout=timings.recover_bound)
        log(f"  healed, Synced again after {restart_s:.1f} s")
    else:
        restart_s = comp.restart(timeout=timings.recover_bound)
        log(f"  restarted, healthy after {restart_s:.1f} s")
    if comp.kind == "galera":
        # No data lost: once the node is back, every node holds the same rows.
        galera.wait_synced(topo, timeout=timings.recover_bound)
    restarted = time.time()
    if comp.kind == "lb" and topo.vip and topo.lb_master() is None:
        note += " no lb holds the VIP after the restart"

    def clean() -> bool:
        now = time.time()
        recent = [r for r in gen.snapshot() if r.end > now - timings.clean_window]
        return now - restarted >= timings.clean_window and bool(recent) and all(r.ok for r in recent)
    if not topology.wait_until(clean, timings.recover_bound, 0.5):
        note += f" load not clean {timings.recover_bound:.0f} s after the restart"
    gen.pause_servers()
    try:
        checks = consistency.run_all(admin, gen.accepted_servers + extra_accepted, gen.deleted_servers,
                                     timings.checks_bound, log=lambda m: log("  " + m),
                                     unconfirmed=gen.delete_unconfirmed)
        if comp.kind == "galera":
            checks.append(galera.same_rows_everywhere(topo))
    finally:
        gen.resume_servers()
    records = [r for r in gen.snapshot() if r.start >= begin]
    flight = load.in_flight(records, kill_at)
    failed = [r for r in records if not r.ok]
    failed_flight = [r for r in flight if not r.ok]
    recovery = load.recovery_seconds(records, kill_at)
    goal = GOALS.get(comp.kind, "in_flight")
    meets = (len(failed) == len(failed_flight)) if goal == "in_flight" else recovery <= FAILOVER_BOUND_S
    return StepResult(comp.name + (" (cut off)" if partition else ""), comp.kind, len(records), len(failed), len(failed_flight),
                      len(failed) - len(failed_flight), len(flight), round(load.rate(records), 1), round(recovery, 2), round(restart_s, 2),
                      goal, meets, checks, load.summarize_failures(records), note.strip(),
                      [{**f, "start": round(f["start"] - kill_at, 3), "end": round(f["end"] - kill_at, 3)}
                       for f in load.failures(records)[:300]],
                      [{**w, "t": round(w["t"] - kill_at, 1)}
                       for w in load.windows([r for r in records if r.end >= kill_at - 5])])


def run(topo: topology.Topology, only: set[str] | None = None, timings: Timings | None = None,
        rate: float = 25.0, workers: int = 12, log: Callable[[str], None] = print) -> list[StepResult]:
    """The whole matrix under one load; the results in order."""
    timings = timings or Timings()
    admin = Cloud.from_openrc(topo.openrc)
    setup = load.prepare(admin)
    left = load.cleanup_servers(admin, setup.project_id)
    if left:
        log(f"{left} servers of an earlier run could not be deleted")
    gen = load.LoadGenerator(setup, rate=rate, workers=workers)
    gen.start()
    results = []
    try:
        for comp in plan(topo, only):
            results.append(run_step(comp, topo, gen, admin, timings, log))
            admin = Cloud.from_openrc(topo.openrc)  # a fresh token: the old one may predate a restart
            if comp.kind == "galera":  # and the partition: the writer cut off, the other two carry on
                # The writer now: the killed node, back, does not take the writes back from its successor.
                results.append(run_step(galera.writer(topo) or comp, topo, gen, admin, timings, log,
                                        partition=True))
                admin = Cloud.from_openrc(topo.openrc)
    finally:
        gen.stop()
        load.cleanup_servers(Cloud.from_openrc(topo.openrc), setup.project_id)
    rs = gen.snapshot()
    log(f"load: {len(rs)} requests, {load.rate(rs):.1f} req/s, {gen.dropped} tickets dropped")
    return results


def table(results: list[StepResult]) -> str:
    """The results as a fixed-width table."""
    head = f"{'component':<18}{'kind':<11}{'sent':>6}{'req/s':>6}{'failed':>7}{'inflight':>9}{'other':>6}" \
           f"{'recov s':>8}{'restart s':>10}{'checks':>8}  goal"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.component:<18}{r.kind:<11}{r.sent:>6}{r.rate:>6.1f}{r.failed:>7}{r.failed_in_flight:>9}"
                     f"{r.failed_other:>6}{r.recovery_s:>8.1f}{r.restart_s:>10.1f}"
                     f"{f'{r.checks_passed}/{len(r.checks)}':>8}  {r.goal}: {'met' if r.meets_goal else 'MISSED'}")
        for op, what, n in r.failures[:6]:
            lines.append(f"    failed: {n} x {op} -> {what}")
        for c in r.checks:
            if not c.passed:
                lines.append(f"    CHECK FAILED: {c.name}: {c.detail[:300]}")
        if r.note:
            lines.append(f"    note: {r.note}")
    return "\n".join(lines)


def to_json(results: list[StepResult]) -> list[dict[str, Any]]:
    """The results as JSON-ready dicts."""
    out = []
    for r in results:
        d = dataclasses.asdict(r)
        d["checks_passed"] = r.checks_passed
        out.append(d)
    return out


def single_node_services(state: str, port_offset: int) -> dict[str, str | None]:
    """Process name -> health URL for a normal devstack's pid files (APIs at their port + offset)."""
    from nubis import services  # the project itself: only this single-node fallback needs it

    out: dict[str, str | None] = {}
    for pidfile in sorted(os.listdir(os.path.join(state, "pids"))):
        if not pidfile.endswith(".pid"):
            continue
        name = pidfile[:-4]
        try:
            svc = services.load(name)
        except Exception:  # noqa: BLE001 - a pid file of something that is not a Nubis service
            continue
        has_api = svc.build_api is not None and svc.port is not None
        out[name] = f"http://127.0.0.1:{(svc.port or 0) + port_offset}/healthcheck" if has_api else None
    return out


def main(argv: list[str] | None = None) -> int:
    """The CLI: run the matrix, print the table, write JSON; exit 1 when a check or goal failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", required=True, help="the deployment's NUBIS_STATE (holds topology.json)")
    parser.add_argument("--only", help="comma-separated kinds: " + ",".join(ORDER) + ", or api:<service>")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--rate", type=float, default=25.0, help="load, requests/s (capped at 30)")
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--baseline", type=float, default=Timings.baseline)
    parser.add_argument("--down", type=float, default=Timings.down)
    parser.add_argument("--clean-window", type=float, default=Timings.clean_window)
    parser.add_argument("--recover-bound", type=float, default=Timings.recover_bound)
    parser.add_argument("--port-offset", type=int,
                        help="no topology.json (a devstack that predates it): write a single-node one from "
                             "the pid files, APIs at their default port + this offset")
    args = parser.parse_args(argv)
    if not os.path.exists(os.path.join(args.state, "topology.json")):
        if args.port_offset is None:
            parser.error(f"{args.state}/topology.json is missing (give --port-offset for a single-node devstack)")
        topology.write_single_node(args.state, single_node_services(args.state, args.port_offset))
    topo = topology.Topology.load(args.state)
    timings = Timings(args.baseline, args.down, args.clean_window, args.recover_bound)
    results = run(topo, set(args.only.split(",")) if args.only else None, timings, args.rate, args.workers,
                  log=lambda m: print(m, flush=True))
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(to_json(results), f, indent=2)
    ok = all(r.meets_goal and r.checks_passed == len(r.checks) for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
