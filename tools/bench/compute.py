"""Boot latency (API call to ACTIVE) and boot+delete throughput with the fake driver.

    python -m tools.bench.compute [--mode in-process|multi-process] [--boots 30] [--concurrent 50]
                                  [--cycles-seconds 20] [--db sqlite|URL] [--transport rabbit://...]

in-process: ``nubis all-in-one`` (every service in one process, in-process
messaging, SQLite, one fake compute host, keystone tokens checked by every API)
in its own process. multi-process: image, placement, scheduler, conductor,
compute API and one agent each in their own process over RabbitMQ, auth off.
The bench client runs in the bench process, polling each server's status.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import requests

from tools import ports
from tools.bench import _service, figures

HEADERS = {"X-User-Id": "bench", "X-Project-Id": "bench", "X-Roles": "admin,member,reader",
           "OpenStack-API-Version": "compute 2.90"}
SERVICES = ["image", "placement", "scheduler", "compute-api", "conductor", "compute"]
# Enough room on the one fake host for every concurrent boot.
BIG_HOST = {"fake_vcpus": "64", "fake_memory_mb": "1048576", "fake_disk_gb": "100000",
            "cpu_allocation_ratio": "16"}
NO_QUOTA = {"instances": "-1", "cores": "-1", "ram": "-1"}
# Seconds between status polls: fine for the lone boot (the figure's resolution), coarser under load,
# where 10 ms polls from 50 clients would be most of the work measured (real clients poll every 1-5 s).
POLL_ALONE, POLL_LOADED = 0.01, 0.1


@contextmanager
def in_process(state: str, db: str, virt: str = "fake",
               settings: dict[str, dict[str, str]] | None = None) -> Iterator[dict[str, str]]:
    """``nubis all-in-one`` in its own process (keystone auth on), as an operator would run it."""
    offset = ports.free_service_offset()
    sections = settings or {"compute": BIG_HOST, "quota": NO_QUOTA}
    if not db.startswith("sqlite"):
        sections = {**sections, "database": {"connection": db}}  # SQLite keeps the all-in-one's file per service
    with open(os.path.join(state, "nubis.conf"), "w") as f:
        for group, values in sections.items():
            f.write(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
    proc = subprocess.Popen([os.path.join(_service.BIN, "nubis"), "all-in-one", "--state-dir", state,
                             "--port-offset", str(offset), "--virt", virt],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    urls = {"identity": f"http://127.0.0.1:{5000 + offset}", "image": f"http://127.0.0.1:{9292 + offset}",
            "compute-api": f"http://127.0.0.1:{8774 + offset}", "volume": f"http://127.0.0.1:{8776 + offset}"}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(urls["compute-api"] + "/healthcheck", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nubis all-in-one did not start")
            time.sleep(0.2)
        with open(os.path.join(state, "secrets.json")) as f:
            password = json.load(f)["admin_password"]
        auth = requests.post(urls["identity"] + "/v3/auth/tokens", timeout=30, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        auth.raise_for_status()
        HEADERS.clear()
        HEADERS.update({"X-Auth-Token": auth.headers["X-Subject-Token"], "OpenStack-API-Version": "compute 2.90"})
        yield urls
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


@contextmanager
def multi_process(state: str, db: str, transport: str) -> Iterator[dict[str, str]]:
    ports = {name: _service.free_port() for name in ("image", "placement", "compute_api")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    conf = os.path.join(state, "nubis.conf")
    lines = [f"[DEFAULT]\nstate_path = {state}\ntransport_url = {transport}\n",
             f"[database]\nconnection = {db}\n", "[api]\nauth_strategy = noauth\n",
             f"[service_credentials]\nendpoint_overrides = placement:{url['placement']},image:{url['image']}\n",
             "[compute]\n" + "".join(f"{k} = {v}\n" for k, v in BIG_HOST.items()),
             "[quota]\n" + "".join(f"{k} = {v}\n" for k, v in NO_QUOTA.items())]
    lines += [f"[{name}]\nbind_host = 127.0.0.1\nbind_port = {port}\n" for name, port in ports.items()]
    with open(conf, "w") as f:
        f.write("\n".join(lines))
    subprocess.run([os.path.join(_service.BIN, "nubis-manage"), "--config-file", conf, "db", "sync"],
                   check=True, capture_output=True)
    with ExitStack() as stack:
        for script, port in (("nubis-image", ports["image"]), ("nubis-placement", ports["placement"]),
                             ("nubis-compute-api", ports["compute_api"])):
            stack.enter_context(_service.running(script, conf, port))
        for script in ("nubis-scheduler", "nubis-conductor", "nubis-compute"):
            stack.enter_context(_service.running_rpc(script, conf))
        yield {"image": url["image"], "compute-api": url["compute_api"]}


def prepare(urls: dict[str, str]) -> tuple[str, str]:
    image = requests.post(f"{urls['image']}/v2/images", headers=HEADERS, timeout=10, json={
        "name": "bench", "disk_format": "raw", "container_format": "bare", "visibility": "public"}).json()
    requests.put(f"{urls['image']}/v2/images/{image['id']}/file", data=io.BytesIO(b"\0" * 1024), timeout=10,
                 headers={**HEADERS, "Content-Type": "application/octet-stream"}).raise_for_status()
    flavor = requests.post(f"{urls['compute-api']}/v2.1/flavors", headers=HEADERS, timeout=10, json={
        "flavor": {"name": "bench", "ram": 64, "vcpus": 1, "disk": 1}}).json()["flavor"]
    return image["id"], flavor["id"]


def boot_to_active(http: requests.Session, api: str, image: str, flavor: str,
                   poll: float = POLL_LOADED) -> tuple[str, float]:
    started = time.perf_counter()
    resp = http.post(f"{api}/v2.1/servers", headers=HEADERS, timeout=60, json={
        "server": {"name": "b", "imageRef": image, "flavorRef": flavor, "networks": "none"}})
    resp.raise_for_status()
    server_id = resp.json()["server"]["id"]
    while True:
        status = http.get(f"{api}/v2.1/servers/{server_id}", headers=HEADERS, timeout=60).json()["server"]["status"]
        if status == "ACTIVE":
            return server_id, time.perf_counter() - started
        if status == "ERROR":
            raise RuntimeError(f"server {server_id} went to ERROR")
        time.sleep(poll)


def delete(http: requests.Session, api: str, server_id: str, poll: float = POLL_LOADED) -> None:
    http.delete(f"{api}/v2.1/servers/{server_id}", headers=HEADERS, timeout=60).raise_for_status()
    while http.get(f"{api}/v2.1/servers/{server_id}", headers=HEADERS, timeout=60).status_code != 404:
        time.sleep(poll)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def run(urls: dict[str, str], args: argparse.Namespace) -> list[str]:
    api = urls["compute-api"]
    image, flavor = prepare(urls)
    http = requests.Session()
    single = []
    for _ in range(args.boots):
        server_id, seconds = boot_to_active(http, api, image, flavor, POLL_ALONE)
        single.append(seconds)
        delete(http, api, server_id, POLL_ALONE)
    burst: list[float] = []
    ids: list[str] = []

    def one() -> None:
        server_id, seconds = boot_to_active(requests.Session(), api, image, flavor)
        burst.append(seconds)
        ids.append(server_id)

    threads = [threading.Thread(target=one) for _ in range(args.concurrent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for server_id in ids:
        delete(http, api, server_id)
    cycles = [0]
    stop = time.monotonic() + args.cycles_seconds

    def cycler() -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            server_id, _ = boot_to_active(session, api, image, flavor)
            delete(session, api, server_id)
            cycles[0] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=cycler) for _ in range(10)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    rate = cycles[0] / (time.monotonic() - started)
    mode = {"mode": args.mode, "db": args.db.split(":")[0]}
    figures.record("compute", "boot to ACTIVE, one at a time, p50", statistics.median(single) * 1000, "ms", **mode)
    figures.record("compute", f"boot to ACTIVE, {args.concurrent} at once, p50", statistics.median(burst) * 1000,
                   "ms", **mode)
    figures.record("compute", "boot+delete cycles at concurrency 10", rate, "/s", **mode)
    return [f"  1 server at a time ({args.boots} boots): p50 {statistics.median(single) * 1000:6.0f} ms  "
            f"p95 {_pct(single, 0.95):6.0f} ms",
            f"  {args.concurrent} at once:                p50 {statistics.median(burst) * 1000:6.0f} ms  "
            f"p95 {_pct(burst, 0.95):6.0f} ms",
            f"  boot+delete cycles at concurrency 10: {rate:5.1f}/s"]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tools.bench.compute")
    parser.add_argument("--mode", choices=["in-process", "multi-process"], default="in-process")
    parser.add_argument("--boots", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--cycles-seconds", type=float, default=20)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a server URL without a database name")
    parser.add_argument("--transport", default="rabbit://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as state, _service.scratch_database(args.db, state, "compute") as db:
        if args.mode == "in-process":
            cloud: Any = in_process(state, db)
        else:
            cloud = multi_process(state, db, args.transport)
        with cloud as urls:
            lines = run(urls, args)
    auth = "keystone tokens" if args.mode == "in-process" else "auth off"
    print(f"compute bench: {args.mode}, db={args.db.split(':')[0]}, fake driver, 1 host, {auth}")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
