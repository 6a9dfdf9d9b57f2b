"""nubis-exporter's scrape time against a cloud with many instances on many hypervisors.

    python -m tools.bench.exporter [--instances 1000] [--hosts 16] [--projects 20] [--scrapes 5]

Starts an all-in-one in this process (keystone auth, fake driver, SQLite) with ``--hosts`` compute agents
(the all-in-one's own and ``--hosts - 1`` more on its transport, as separate hypervisors), creates
``--projects`` projects, then boots ``--instances`` servers *through the compute API* (``--concurrent`` at a
time), each with a port on a tenant network (so the network API lists as many ports as servers). Then it times
full reads of the cloud by the exporter's reader (every API it reads, page by page, and one quota call per
project) plus rendering the exposition text, with no cache: what one Prometheus scrape costs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import prometheus_client as prom
import requests

from nubis import services
from nubis.cmd import all_in_one, common
from nubis.common import config
from nubis.common.runtime import Runtime
from nubis.compute import agent_service
from nubis.monitoring.exporter import CloudCollector
from nubis.monitoring.reader import CloudReader
from tools import ports
from tools.bench import compute, figures

SERVICES = ["identity", "image", "placement", "scheduler", "compute-api", "conductor", "compute", "network"]
# A fake hypervisor admits 64 one-vCPU servers; quotas off; no network agent on the fake hosts, so compute does
# not wait for a vif-plugged event (as Nova with vif_plugging_timeout = 0).
CONFIG = {"compute": {**compute.BIG_HOST, "vif_plugging_timeout": "0", "vif_plugging_is_fatal": "false"},
          "quota": compute.NO_QUOTA, "network": {"vni_ranges": "1000:1999"}}


@contextmanager
def cloud(state: str, hosts: int) -> Iterator[all_in_one.AllInOne]:
    """The all-in-one (its ``compute`` is the first host) plus ``hosts - 1`` more compute agents."""
    offset = ports.free_service_offset()
    names = [n for n in SERVICES if n in services.available()]
    aio = all_in_one.AllInOne(all_in_one.Options(
        state_dir=state, services=names, setup_logging=False, extra_config=CONFIG,
        ports={n: services.load(n).port + offset for n in names if services.load(n).port}))
    aio.start()
    extra: list[Any] = []
    try:
        assert aio.runtime is not None
        for i in range(1, hosts):
            conf = common.build_conf([services.load(n) for n in names])
            config.parse_args(conf, [], default_config_files=[os.path.join(state, all_in_one.GENERATED_CONF)])
            conf.set_override("host", f"bench-hv-{i:02d}")
            extra.extend(agent_service.start(Runtime(conf, messaging=aio.runtime.messaging)))
        yield aio
    finally:
        for item in reversed(extra):
            item.stop()
        aio.stop()


def _token(aio: all_in_one.AllInOne, project: str = "admin") -> str:
    assert aio.secrets is not None
    resp = requests.post(aio.auth_url + "/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": aio.secrets.admin_password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"]


def _projects(aio: all_in_one.AllInOne, count: int) -> list[tuple[str, str]]:
    """``count`` projects with admin as member; ``(project name, a network of its own)`` each."""
    identity, network = aio.url("identity") + "/v3", aio.url("network")
    admin = {"X-Auth-Token": _token(aio)}
    roles = requests.get(f"{identity}/roles", headers=admin, timeout=30).json()["roles"]
    member = next(r["id"] for r in roles if r["name"] == "member")
    user = requests.get(f"{identity}/users?name=admin", headers=admin, timeout=30).json()["users"][0]["id"]
    out = []
    for i in range(count):
        name = f"bench-{i:03d}"
        project = requests.post(f"{identity}/projects", headers=admin, timeout=30, json={"project": {
            "name": name, "domain_id": "default"}}).json()["project"]["id"]
        requests.put(f"{identity}/projects/{project}/users/{user}/roles/{member}", headers=admin,
                     timeout=30).raise_for_status()
        token = {"X-Auth-Token": _token(aio, name)}
        net = requests.post(f"{network}/v2.0/networks", headers=token, timeout=30,
                            json={"network": {"name": name}}).json()["network"]["id"]
        requests.post(f"{network}/v2.0/subnets", headers=token, timeout=30, json={"subnet": {
            "network_id": net, "ip_version": 4, "cidr": "10.0.0.0/22"}}).raise_for_status()
        out.append((name, net))
    return out


def _boot(aio: all_in_one.AllInOne, projects: list[tuple[str, str]], image: str, flavor: str, count: int,
          concurrency: int) -> float:
    """Boot ``count`` servers spread over ``projects`` (a port each), ``concurrency`` at a time; seconds until
    all are ACTIVE."""
    api = aio.url("compute-api") + "/v2.1"
    tokens = {name: _token(aio, name) for name, _ in projects}

    def one(i: int) -> None:
        name, net = projects[i % len(projects)]
        headers = {"X-Auth-Token": tokens[name], "OpenStack-API-Version": "compute 2.90"}
        with requests.Session() as http:
            resp = http.post(f"{api}/servers", headers=headers, timeout=120, json={"server": {
                "name": f"s{i}", "imageRef": image, "flavorRef": flavor, "networks": [{"uuid": net}]}})
            resp.raise_for_status()
            server = resp.json()["server"]["id"]
            while True:
                body = http.get(f"{api}/servers/{server}", headers=headers, timeout=120).json()["server"]
                if body["status"] == "ACTIVE":
                    return
                if body["status"] == "ERROR":
                    raise RuntimeError(f"server {server} went to ERROR: {body.get('fault')}")
                time.sleep(0.2)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(one, i) for i in range(count)]:
            future.result()
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tools.bench.exporter")
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=16, help="hypervisors (a fake one admits 64 servers)")
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--scrapes", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=8)
    args = parser.parse_args(argv)
    # Each boot warns that no network agent plugs its port (none runs on the fake hosts): not news here.
    logging.getLogger("nubis").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as state, cloud(state, args.hosts) as aio:
        compute.HEADERS.clear()
        compute.HEADERS.update({"X-Auth-Token": _token(aio), "OpenStack-API-Version": "compute 2.90"})
        image, flavor = compute.prepare({"image": aio.url("image"), "compute-api": aio.url("compute-api")})
        projects = _projects(aio, args.projects)
        boot_time = _boot(aio, projects, image, flavor, args.instances, args.concurrent)
        assert aio.runtime is not None
        registry = prom.CollectorRegistry()
        registry.register(CloudCollector(CloudReader(aio.runtime.conf).read, cache_seconds=0))
        times, size = [], 0
        for _ in range(args.scrapes):
            started = time.perf_counter()
            text = prom.generate_latest(registry).decode()
            times.append(time.perf_counter() - started)
            size = len(text)
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    running = sum(float(line.split()[-1]) for line in text.splitlines()
                  if line.startswith("openstack_nova_running_vms{"))
    ports_seen = next((str(int(float(line.split()[-1]))) for line in text.splitlines() if line.startswith("openstack_neutron_ports ")),
                      "?")
    took = statistics.median(times)
    conditions = {"instances": args.instances, "hypervisors": args.hosts, "projects": args.projects,
                  "ports": ports_seen, "created": "compute API (fake driver)", "scrapes": args.scrapes,
                  "db": "sqlite", "services": "in-process all-in-one"}
    figures.record("exporter", "scrape time, p50", took * 1000, "ms", **conditions)
    figures.record("exporter", "scrape time, max", max(times) * 1000, "ms", **conditions)
    figures.record("exporter", "series per scrape", series, "", **conditions)
    print(f"exporter bench: {args.instances} instances ({running:.0f} running on {args.hosts} hypervisors, "
          f"{ports_seen} ports, {args.projects} projects) booted through the compute API in {boot_time:.1f} s; "
          f"scrape p50 {took * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}), "
          f"{series} series, {size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
