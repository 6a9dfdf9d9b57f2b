"""``nubis-manage quota capacity-report`` run as operators run it, against a running cloud's APIs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import requests

from tests.functional.monitoring.conftest import MonitoredCloud


def _report(cloud: MonitoredCloud, fmt: str = "json") -> tuple[int, Any]:
    conf = os.path.join(cloud.aio.state_dir, "all-in-one.conf")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-m", "nubis.cmd.manage", "--config-file", conf, "quota",
                           "capacity-report", "--format", fmt], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout) if fmt == "json" else proc.stdout


def _capacity(cloud: MonitoredCloud, rc: str) -> float:
    """What placement admits of ``rc``, read here from its API: (total - reserved) x ratio over providers."""
    conn = cloud.connection()
    http = conn.session
    base = cloud.url("placement")
    hdr = {"OpenStack-API-Version": "placement 1.30"}
    total = 0.0
    for rp in http.get(f"{base}/resource_providers", headers=hdr).json()["resource_providers"]:
        inv = http.get(f"{base}/resource_providers/{rp['uuid']}/inventories", headers=hdr).json()["inventories"]
        if rc in inv:
            total += (inv[rc]["total"] - inv[rc]["reserved"]) * inv[rc]["allocation_ratio"]
    return total


def _set_quota(cloud: MonitoredCloud, project: str, **values: int) -> None:
    resp = requests.put(f"{cloud.url('compute-api')}/v2.1/os-quota-sets/{project}", json={"quota_set": values},
                        headers={"X-Auth-Token": cloud.connection().session.get_token()}, timeout=30)
    assert resp.status_code == 200, resp.text


def _reset_quota(cloud: MonitoredCloud, project: str) -> None:
    resp = requests.delete(f"{cloud.url('compute-api')}/v2.1/os-quota-sets/{project}",
                           headers={"X-Auth-Token": cloud.connection().session.get_token()}, timeout=30)
    assert resp.status_code == 202, resp.text


def test_capacity_report_warns_when_quotas_exceed_capacity(cloud: MonitoredCloud) -> None:
    projects = [p.id for p in cloud.connection().identity.projects()]
    cores_cap, ram_cap = _capacity(cloud, "VCPU"), _capacity(cloud, "MEMORY_MB")
    assert cores_cap > 0 and ram_cap > 0
    try:
        # Every project at the test cloud's default quota (cores 200, ram 400 GiB).
        code, body = _report(cloud)
        lines = {ln["quota"]: ln for ln in body["resources"]}
        assert body["projects"] == len(projects)
        assert lines["cores"]["quota_total"] == 200 * len(projects)
        assert lines["ram"]["quota_total"] == 409600 * len(projects)
        assert lines["cores"]["capacity"] == cores_cap and lines["ram"]["capacity"] == ram_cap
        over = [q for q, cap in (("cores", cores_cap), ("ram", ram_cap)) if lines[q]["quota_total"] > cap]
        assert code == (3 if over else 0)
        for q in over:
            assert f"quotas add up to {lines[q]['quota_total']:g}" in lines[q]["warning"]

        # Quotas that share the capacity out: no warning, exit status 0.
        for p in projects:
            _set_quota(cloud, p, cores=int(cores_cap // len(projects)), ram=int(ram_cap // len(projects)))
        code, body = _report(cloud)
        assert code == 0 and all(ln["warning"] is None for ln in body["resources"]), body
        assert all(ln["ratio"] <= 1 for ln in body["resources"])

        # One project too many cores: the cores line warns; ram is still fine.
        _set_quota(cloud, projects[0], cores=int(cores_cap))
        code, text = _report(cloud, "table")
        assert code == 3
        assert "WARNING: the projects' cores quotas add up to" in text and "ram quotas" not in text

        # An unlimited quota always breaks the rule.
        _set_quota(cloud, projects[-1], ram=-1)
        code, body = _report(cloud)
        ram = next(ln for ln in body["resources"] if ln["quota"] == "ram")
        assert code == 3 and ram["quota_total"] == "unlimited" and ram["unlimited_projects"] == [projects[-1]]
        assert "unlimited ram quota" in ram["warning"]
    finally:
        for p in projects:
            _reset_quota(cloud, p)
