"""The HA deployment's throughput with two API copies against one, and the control plane's memory.

    python -m tools.bench.ha --state $NUBIS_STATE [--duration 10] [--concurrency 10] [--servers 30]
    python -m tools.bench ha          # the same, the deployment from $NUBIS_STATE

Against a running ``NUBIS_HA=1 devstack/stack.sh`` (its topology.json), through the VIP:
token validate throughput (c clients, a fixed duration) and the boot+delete rate (c clients, N
servers on the fake driver, each booted to ACTIVE and deleted until gone), first with every API
copy in service, then with only copy 1 (every other copy's /healthcheck disabled by its disable
file, so HAProxy drains it; where that file has no effect the copy's processes are stopped and
started again afterwards). Then the resident memory of every process in topology.json and their
children. On a single-node devstack only the one-copy figures and the memory are measured.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests

from tests.e2e.ha import load, topology
from tests.e2e.ha.cloud import Cloud, password_auth
from tools.bench import figures


def _counting(attempt: Callable[[], bool], counts: dict[str, int], lock: threading.Lock, ok: str) -> None:
    """Run ``attempt`` and count it under ``ok`` when it says so, under "errors" when not or when it raised."""
    try:
        good = attempt()
    except (requests.RequestException, RuntimeError):
        good = False
    with lock:
        counts[ok if good else "errors"] += 1


def validate_throughput(admin: Cloud, concurrency: int, duration: float) -> dict[str, float]:
    """GET /v3/auth/tokens (a subject token, validated by the admin) in ``concurrency`` loops."""
    subject = Cloud.from_openrc_token(admin)
    url = admin.url("identity", "/auth/tokens")
    headers = {"X-Auth-Token": admin.token, "X-Subject-Token": subject}
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client() -> None:
        with requests.Session() as http:
            while time.monotonic() < deadline:
                _counting(lambda: http.get(url, headers=headers, timeout=30).status_code == 200, counts, lock, "ok")

    started = time.monotonic()
    _run_threads(client, concurrency)
    return {"rps": counts["ok"] / (time.monotonic() - started), "errors": counts["errors"]}


def boot_delete_rate(admin: Cloud, setup: load.LoadSetup, concurrency: int, servers: int) -> dict[str, float]:
    """Servers booted to ACTIVE and deleted until gone, per second, by ``concurrency`` clients."""
    todo = list(range(servers))
    lock = threading.Lock()
    counts = {"done": 0, "errors": 0}
    user = Cloud.login(setup.auth_url, password_auth(setup.user, setup.password, setup.project))

    def cycle(n: int) -> bool:
        body = {"server": {"name": f"bench-ha-{n}", "flavorRef": setup.flavor_id, "imageRef": setup.image_id,
                           "networks": [{"uuid": setup.network_id}]}}
        server_id = user.post("compute", "/servers", body)["server"]["id"]
        status = ""

        def built() -> bool:
            nonlocal status
            status = user.get("compute", f"/servers/{server_id}")["server"]["status"]
            return status in ("ACTIVE", "ERROR")
        topology.wait_until(built, 120, 0.3)
        user.call("DELETE", "compute", f"/servers/{server_id}", expect=(204,))

        def gone() -> bool:
            return user.call("GET", "compute", f"/servers/{server_id}", expect=(200, 404)).status_code == 404
        return topology.wait_until(gone, 120, 0.3) and status == "ACTIVE"

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            _counting(functools.partial(cycle, n), counts, lock, "done")

    started = time.monotonic()
    _run_threads(client, concurrency)
    return {"per_s": counts["done"] / (time.monotonic() - started), "errors": counts["errors"]}


def _run_threads(target: Callable[[], None], n: int) -> None:
    threads = [threading.Thread(target=target) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def rss_mib(pids: list[int]) -> float:
    """The sum of VmRSS of ``pids`` (processes gone meanwhile count 0), MiB."""
    total_kib = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total_kib += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total_kib / 1024


@contextmanager
def only_first_copies(topo: topology.Topology, state_path: str) -> Iterator[list[str]]:
    """Take every API copy but the first of each service out of service; back in on exit.

    Copy N of a service is drained by touching ``<state>/copy-N/<api>-healthcheck-disable`` (its
    drain directory, ``[api] healthcheck_disable_dir``; ``<api>`` is the API's catalog type, which is
    the service's name without "-api"): its /healthcheck then answers 503 and HAProxy stops sending
    it requests. A copy whose health URL still answers 200 after that (a console proxy, which has no
    health URL, or a file name that missed) is stopped (SIGKILL) and started again on exit. Yields
    how each was taken out.
    """
    touched, stopped, how = [], [], []
    for service in topo.api_services():
        for comp in topo.of_kind("api", service)[1:]:
            copy = comp.name.rsplit("-", 1)[-1]
            for api in {service, service.removesuffix("-api")}:
                flag = os.path.join(state_path, f"copy-{copy}", f"{api}-healthcheck-disable")
                if os.path.isdir(os.path.dirname(flag)):
                    open(flag, "a").close()
                    touched.append(flag)
            if comp.health_url and topology.wait_until(functools.partial(_drained, comp.health_url), 5):
                how.append(f"{comp.name}: healthcheck disabled")
            else:
                comp.kill()
                stopped.append(comp)
                how.append(f"{comp.name}: stopped")
    time.sleep(5 if how else 0)  # HAProxy's health checks notice (its inter is at most a few seconds)
    try:
        yield how
    finally:
        for flag in touched:
            os.unlink(flag)
        for comp in stopped:
            comp.restart()
        time.sleep(5 if how else 0)


def _drained(url: str) -> bool:
    """The copy's health check answers 503 (its disable file is honoured)."""
    try:
        return requests.get(url, timeout=2).status_code == 503
    except requests.RequestException:
        return False


def main(argv: list[str]) -> None:
    """Run the benchmark and print (and record) its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", default=os.environ.get("NUBIS_STATE"),
                        help="the deployment's NUBIS_STATE (default: $NUBIS_STATE)")
    parser.add_argument("--state-path", help="holds the copies' drain directories copy-N (default: --state)")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--servers", type=int, default=30)
    args = parser.parse_args(argv)
    if not args.state:
        raise SystemExit("give --state or set NUBIS_STATE: this benchmark measures a running HA devstack")
    topo = topology.Topology.load(args.state)
    admin = Cloud.from_openrc(topo.openrc)
    setup = load.prepare(admin, prefix="bench-ha")
    copies = max((len(topo.of_kind("api", s)) for s in topo.api_services()), default=1)
    print(f"deployment: {len(topo.components)} components, VIP {topo.vip}, up to {copies} copies of each API; "
          f"c={args.concurrency}, {args.duration:.0f} s validate, {args.servers} boot+delete cycles")

    def measure(label: int) -> None:
        v = validate_throughput(admin, args.concurrency, args.duration)
        print(f"{label} cop{'y' if label == 1 else 'ies'}: token validate {v['rps']:8.1f} req/s "
              f"({int(v['errors'])} errors)", flush=True)
        b = boot_delete_rate(admin, setup, args.concurrency, args.servers)
        print(f"{label} cop{'y' if label == 1 else 'ies'}: boot+delete  {b['per_s']:8.2f} servers/s "
              f"({int(b['errors'])} errors)", flush=True)
        figures.record("ha", "token validate req/s", v["rps"], "req/s", copies=label, concurrency=args.concurrency)
        figures.record("ha", "boot+delete servers/s", b["per_s"], "/s", copies=label, concurrency=args.concurrency,
                       servers=args.servers, driver="fake")

    if copies > 1:
        measure(copies)
        with only_first_copies(topo, args.state_path or args.state) as how:
            print("taken out: " + ", ".join(how))
            measure(1)
    else:
        measure(1)
    pids = topo.all_pids()
    rss = rss_mib(pids)
    print(f"control plane RSS: {rss:.0f} MiB over {len(pids)} processes")
    figures.record("ha", "control plane RSS", rss, "MiB", processes=len(pids), components=len(topo.components))


if __name__ == "__main__":
    main(sys.argv[1:])
