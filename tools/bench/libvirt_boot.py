"""Real boots under qemu/TCG: API call to ACTIVE, and to ``NUBIS-GUEST-UP`` on the guest's console.

    python -m tools.bench.libvirt_boot [--boots 5] [--concurrent 10]

Runs ``nubis all-in-one --virt libvirt`` (virt_type qemu, config drive forced,
SQLite, in-process messaging) in its own process against this host's libvirtd,
uploads the image ``tools/build-test-image`` builds, boots it ``--boots`` times
one after the other, then ``--concurrent`` at once. Needs root and libvirtd.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

import openstack
import requests

from tools import testimage
from tools.bench import compute, figures

SETTINGS = {"libvirt": {"virt_type": "qemu", "force_config_drive": "true", "shutdown_timeout": "5"},
            "compute": {"sync_power_state_interval": "0"},
            "quota": {"instances": "-1", "cores": "-1", "ram": "-1"}}
POLL = 0.1


def boot(http: requests.Session, api: str, image: str, flavor: str) -> tuple[str, float, float]:
    """(server id, seconds to ACTIVE, seconds to NUBIS-GUEST-UP), both from the create call."""
    started = time.perf_counter()
    resp = http.post(f"{api}/v2.1/servers", headers=compute.HEADERS, timeout=60, json={
        "server": {"name": "bench", "imageRef": image, "flavorRef": flavor, "networks": "none"}})
    resp.raise_for_status()
    server_id = resp.json()["server"]["id"]
    active = up = None
    while up is None:
        if active is None:
            status = http.get(f"{api}/v2.1/servers/{server_id}", headers=compute.HEADERS,
                              timeout=60).json()["server"]["status"]
            if status == "ERROR":
                raise RuntimeError(f"server {server_id} went to ERROR")
            if status == "ACTIVE":
                active = time.perf_counter() - started
        if active is not None:
            out = http.post(f"{api}/v2.1/servers/{server_id}/action", headers=compute.HEADERS, timeout=60,
                            json={"os-getConsoleOutput": {}})
            if out.status_code == 200 and "NUBIS-GUEST-UP" in out.json()["output"]:
                up = time.perf_counter() - started
        if time.perf_counter() - started > 600:
            raise RuntimeError(f"server {server_id} did not come up in 10 minutes")
        time.sleep(POLL)
    return server_id, active, up  # type: ignore[return-value]


def _summary(label: str, values: list[float]) -> str:
    return (f"p50 {statistics.median(values):6.2f} s  p95 {compute._pct(values, 0.95) / 1000:6.2f} s  "
            f"max {max(values):6.2f} s  ({label})")


def run(urls: dict[str, str], state: str, args: argparse.Namespace) -> list[str]:
    api = urls["compute-api"]
    conn = openstack.connect(auth_url=urls["identity"] + "/v3", username="admin", password=args.password,
                             project_name="admin", user_domain_id="default", project_domain_id="default")
    image = testimage.upload(testimage.build(os.path.join(state, "test-image"), args.cache_dir), "bench", conn)
    flavor = conn.compute.create_flavor(name="bench-tiny", ram=256, vcpus=1, disk=1).id
    http = requests.Session()
    boot(http, api, image, flavor)  # warm the image cache: the figures are for boots from a cached base
    for server in conn.compute.servers():
        compute.delete(http, api, server.id)
    active, up = [], []
    for _ in range(args.boots):
        server_id, a, u = boot(http, api, image, flavor)
        active.append(a)
        up.append(u)
        compute.delete(http, api, server_id)
    burst: list[tuple[str, float, float]] = []

    def one() -> None:
        burst.append(boot(requests.Session(), api, image, flavor))

    threads = [threading.Thread(target=one) for _ in range(args.concurrent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for server_id, _, _ in burst:
        compute.delete(http, api, server_id)
    for label, values in (("to ACTIVE, one at a time", active), ("to NUBIS-GUEST-UP, one at a time", up),
                          (f"to ACTIVE, {args.concurrent} at once", [b[1] for b in burst]),
                          (f"to NUBIS-GUEST-UP, {args.concurrent} at once", [b[2] for b in burst])):
        figures.record("libvirt", f"boot {label} p50", statistics.median(values), "s", virt_type="qemu (TCG)")
    return [f"  to ACTIVE, one at a time ({args.boots}):        {_summary('API call to ACTIVE', active)}",
            f"  to NUBIS-GUEST-UP, one at a time:          {_summary('API call to console marker', up)}",
            f"  to ACTIVE, {args.concurrent} at once:                  "
            f"{_summary('API call to ACTIVE', [b[1] for b in burst])}",
            f"  to NUBIS-GUEST-UP, {args.concurrent} at once:          "
            f"{_summary('API call to console marker', [b[2] for b in burst])}"]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=10)
    parser.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/nubis-test-image"))
    args = parser.parse_args(argv)
    state = tempfile.mkdtemp(prefix="nubis-bench-libvirt-", dir="/var/tmp")
    os.chmod(state, 0o755)  # qemu (libvirt-qemu) reads the instance disks under it
    settings = {**SETTINGS, "libvirt": {**SETTINGS["libvirt"], "instances_path": os.path.join(state, "instances")}}
    try:
        with compute.in_process(state, "sqlite", virt="libvirt", settings=settings) as urls:
            with open(os.path.join(state, "secrets.json")) as f:
                args.password = json.load(f)["admin_password"]
            lines = run(urls, state, args)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    print(f"libvirt boots (qemu/TCG, test image, 256 MB, 1 vCPU, config drive; {os.cpu_count()} host CPUs)")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
