"""The real Prometheus (Debian's ``prometheus``) scraping nubis-exporter with the shipped alerting rules: a
compute agent that stops reporting makes ``NubisComputeHostDown`` pending, then firing once its ``for`` window
has passed."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from tests import fixtures
from tests.functional.compute.conftest import start_extra_agent
from tests.functional.monitoring.conftest import MonitoredCloud

ROOT = pathlib.Path(__file__).resolve().parents[3]
PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(PROMETHEUS is None, reason="prometheus (apt) is installed by run_tests.sh")
HOST = "prom-watched"


@pytest.fixture
def prometheus(cloud: MonitoredCloud, tmp_path: pathlib.Path) -> Iterator[str]:
    """A Prometheus scraping the cloud's exporter every second, evaluating the shipped rules every second."""
    rules = tmp_path / "alerts.yml"
    shutil.copy(ROOT / "etc" / "prometheus" / "alerts.yml", rules)
    target = cloud.exporter_url.removeprefix("http://").removesuffix("/metrics")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": "nubis-exporter", "static_configs": [{"targets": [target]}]}]}))
    port = fixtures.free_port()
    proc = subprocess.Popen([str(PROMETHEUS), f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        fixtures.wait_until(lambda: _ready(url), timeout=60, what=lambda: (
            f"prometheus to start: {(tmp_path / 'prometheus.log').read_text()[-2000:]}"))
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _query(url: str, expr: str) -> list[dict[str, Any]]:
    body = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]["result"]  # type: ignore[no-any-return]


def _alert(url: str) -> dict[str, Any] | None:
    alerts = requests.get(f"{url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return next((a for a in alerts if a["labels"].get("alertname") == "NubisComputeHostDown"
                 and a["labels"].get("hostname") == HOST), None)


def test_stopping_a_compute_agent_fires_host_down(cloud: MonitoredCloud, prometheus: str) -> None:
    _, running = start_extra_agent(cloud, HOST)
    try:
        fixtures.wait_until(lambda: _query(prometheus, f'openstack_nova_agent_state{{hostname="{HOST}"}} == 1'),
                            timeout=60, what=f"Prometheus to scrape {HOST} up")
        assert _alert(prometheus) is None
        for item in reversed(running):
            item.stop()
        running.clear()
        stopped = time.monotonic()

        pending = fixtures.wait_until(lambda: _alert(prometheus), timeout=30, interval=0.5,
                                      what="NubisComputeHostDown to become pending")
        assert pending["state"] == "pending"
        became_pending = time.monotonic()
        assert became_pending - stopped < 15  # service_down_time (3 s) plus a scrape and an evaluation
        fired = fixtures.wait_until(lambda: (a := _alert(prometheus)) and a["state"] == "firing" and a,
                                    timeout=120, interval=1, what="NubisComputeHostDown to fire")
        waited = time.monotonic() - became_pending
        rule = next(r for g in yaml.safe_load((ROOT / "etc/prometheus/alerts.yml").read_text())["groups"]
                    for r in g["rules"] if r.get("alert") == "NubisComputeHostDown")
        window = int(rule["for"].removesuffix("m")) * 60
        assert window - 2 <= waited <= window + 15, waited  # fires once its `for` window has passed, not before
        assert fired["labels"]["severity"] == "critical"
        assert fired["annotations"]["summary"] == f"Compute host {HOST} is down"
        # The other hosts stay quiet.
        assert not _query(prometheus, 'ALERTS{alertname="NubisComputeHostDown",hostname="compute-2"}')
    finally:
        for item in reversed(running):
            item.stop()
