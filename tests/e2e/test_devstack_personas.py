"""The persona matrix against devstack: every service its own process, on MariaDB, RabbitMQ and memcached.

The same rows and checks as ``tests/functional/probe/test_matrix.py``; here the
tokens are validated by keystonemiddleware through memcached, across processes.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from nubis import services
from tests.e2e.test_devstack import ROOT, _env
from tests.functional.cloud import Cloud
from tests.functional.probe import rows as matrix
from tests.functional.probe.test_matrix import ORDERED, check_row
from tests.functional.probe.world import build
from tools import ports

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif("network" not in services.available(), reason="needs every API service"),
]

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


# One test is the whole matrix: a devstack start (about a minute) and some 600 rows of requests as every
# persona, across processes; more than the suite's 300 s a test on two busy cores.
@pytest.mark.timeout(1200)
def test_persona_matrix_on_devstack(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        pytest.fail("devstack needs root")
    # Ports below the ephemeral range (32768+), where the tests' own client sockets could hold them.
    env = _env(tmp_path, ports.free_service_offset())
    stack = subprocess.run([os.path.join(ROOT, "devstack", "stack.sh")], env=env, capture_output=True,
                           text=True, timeout=600)
    try:
        assert stack.returncode == 0, stack.stdout[-3000:] + stack.stderr[-3000:]
        cloud = Cloud.from_openrc(str(tmp_path / "state" / "openrc"))
        world = build(cloud, _urls(cloud))
        failures = []
        for row in ORDERED:
            failures += [f"{row.service} {row.method} {matrix.resolve(row, world)}: {f}" for f in check_row(world, row)]
        assert not failures, "\n".join(failures)
    finally:
        unstack = subprocess.run([os.path.join(ROOT, "devstack", "unstack.sh"), "--purge"], env=env,
                                 capture_output=True, text=True, timeout=300)
    assert unstack.returncode == 0, unstack.stderr
