"""devstack/stack.sh on this host: every service its own process on MariaDB + RabbitMQ + memcached.

One deployment serves both checks (a devstack start and stop is most of a minute): the deployment itself,
and the persona matrix of ``tests/functional/probe/test_matrix.py`` across its processes, where tokens are
validated by keystonemiddleware through memcached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from nubis import services
from tests.functional.cloud import Cloud
from tests.functional.probe import rows as matrix
from tests.functional.probe.test_matrix import ORDERED, check_row
from tests.functional.probe.world import build
from tools import ports

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif("identity" not in services.available(), reason="needs the identity service"),
]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _env(tmp_path, offset: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    env.update({
        "NUBIS_STATE": str(tmp_path / "state"),
        "NUBIS_CONF_DIR": str(tmp_path / "etc"),
        # Reuse the test venv (the project is installed there) instead of a fresh install.
        "NUBIS_VENV": os.path.dirname(os.path.dirname(sys.executable)),
        "NUBIS_PORT_OFFSET": str(offset),
    })
    return env


# Catalog service types of the matrix's services, and the version suffix of each endpoint.
CATALOG_TYPES = {"identity": ("identity", "/v3"), "compute": ("compute", "/v2.1"), "network": ("network", ""),
                 "image": ("image", ""), "placement": ("placement", ""), "volume": ("block-storage", ""),
                 "metering": ("metering", "")}


def _urls(cloud: Cloud) -> dict[str, str]:
    token = requests.post(cloud.auth_url + "/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": cloud.admin.username, "domain": {"id": "default"}, "password": cloud.admin.password}}},
        "scope": {"project": {"name": cloud.admin.project_name, "domain": {"id": "default"}}}}})
    assert token.status_code == 201, token.text
    urls = {}
    by_type = {entry["type"]: entry for entry in token.json()["token"]["catalog"]}
    for name, (kind, suffix) in CATALOG_TYPES.items():
        url = next(e["url"] for e in by_type[kind]["endpoints"] if e["interface"] == "public").rstrip("/")
        url = url.split("/v2.1")[0] if name == "compute" else url
        url = url.split("/v3/")[0] if name == "volume" else url  # Cinder's endpoint ends in /v3/<project>
        urls[name] = url.removesuffix(suffix).removesuffix("/v2.0").removesuffix("/v2")
    return urls


def _persona_matrix_failures(cloud: Cloud) -> list[str]:
    """Every row of the persona matrix as every persona, against ``cloud``: what went other than expected."""
    world = build(cloud, _urls(cloud))
    failures = []
    for row in ORDERED:
        failures += [f"{row.service} {row.method} {matrix.resolve(row, world)}: {f}" for f in check_row(world, row)]
    return failures


# A devstack start, a second one, some 600 rows of requests as every persona across processes, and the stop:
# more than the suite's 300 s a test on two busy cores.
@pytest.mark.timeout(1200)
def test_stack_persona_matrix_and_unstack(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        pytest.fail("devstack needs root")
    offset = ports.free_service_offset()
    env = _env(tmp_path, offset)
    pids: dict[str, int] = {}

    def read_pids() -> None:
        for pidfile in (tmp_path / "state" / "pids").glob("*.pid"):
            pids[pidfile.stem] = int(pidfile.read_text())

    stack = subprocess.run([os.path.join(ROOT, "devstack", "stack.sh")], env=env, capture_output=True,
                           text=True, timeout=600)
    try:
        assert stack.returncode == 0, stack.stdout[-3000:] + stack.stderr[-3000:]
        assert "Nubis is running" in stack.stdout
        read_pids()
        assert set(pids) == set(services.available())
        # Each process can be started again as it was (the kill tests' restart), and the deployment says so.
        assert {p.stem for p in (tmp_path / "state" / "pids").glob("*.start")} == set(pids)
        topology = json.loads((tmp_path / "state" / "topology.json").read_text())
        assert topology["vip"] is None
        assert {c["name"] for c in topology["components"]} == set(pids)
        assert {c["service"] for c in topology["components"] if c["kind"] == "api"} >= {"identity", "compute-api"}
        for name in services.available():
            service = services.load(name)
            if service.build_api is not None:
                url = f"http://127.0.0.1:{service.port + offset}/healthcheck"
                assert requests.get(url, timeout=5).status_code == 200, name
        # The Prometheus exporter is started too, on its port plus the offset, and reads the cloud.
        scraped = requests.get(f"http://127.0.0.1:{services.load('exporter').port + offset}/metrics", timeout=60)
        assert scraped.status_code == 200 and "openstack_identity_up 1.0" in scraped.text, scraped.text[-2000:]
        openrc = (tmp_path / "state" / "openrc").read_text()
        os_env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        for line in openrc.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            os_env[key] = value
        openstack = os.path.join(os.path.dirname(sys.executable), "openstack")
        token = subprocess.run([openstack, "token", "issue", "-f", "json"], env=os_env,
                               capture_output=True, text=True, timeout=120)
        assert token.returncode == 0, token.stderr
        assert json.loads(token.stdout)["project_id"]
        # The config points at the real backends.
        conf = (tmp_path / "etc" / "nubis.conf").read_text()
        assert "mysql+pymysql://nubis:" in conf and "rabbit://nubis:" in conf and "pymemcache" in conf
        # Fake guests: the network agent wires nothing on this host, and finds nubis-metadata at its port.
        assert "dataplane = noop" in conf and f"metadata_url = http://127.0.0.1:{8775 + offset}" in conf
        # A second run is safe and leaves the same set of services running.
        again = subprocess.run([os.path.join(ROOT, "devstack", "stack.sh")], env=env, capture_output=True,
                               text=True, timeout=600)
        assert again.returncode == 0, again.stderr[-3000:]
        read_pids()
        # ... and leaves a cloud that answers every persona as the API references say.
        failures = _persona_matrix_failures(Cloud.from_openrc(str(tmp_path / "state" / "openrc")))
        assert not failures, "\n".join(failures)
    finally:
        unstack = subprocess.run([os.path.join(ROOT, "devstack", "unstack.sh"), "--purge"], env=env,
                                 capture_output=True, text=True, timeout=600)
    assert unstack.returncode == 0, unstack.stderr
    for pid in pids.values():
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
