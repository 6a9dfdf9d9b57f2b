"""The kill matrix against a devstack of its own: ``NUBIS_HA=1 devstack/stack.sh``, as root.

Each component is SIGKILLed under a bounded mixed load and restarted; afterwards no accepted boot is
lost or stuck, placement usage equals the servers' flavors, no IP or MAC is allocated twice, no image
is left half-uploaded; and the load lost no request but the ones in flight on the killed part.

``NUBIS_HA_TEST_MODE=single`` runs it against a normal (single-node) devstack instead: there an API's
only copy is killed, so requests fail until it is back, and only the consistency checks are asserted.
``NUBIS_HA_TEST_STATE=<NUBIS_STATE>`` uses a deployment already running (not stacked nor unstacked).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.ha import matrix, topology
from tools import ports

pytestmark = [pytest.mark.e2e, pytest.mark.ha_deploy, pytest.mark.timeout(3600)]

ROOT = Path(__file__).resolve().parents[3]
SINGLE = os.environ.get("NUBIS_HA_TEST_MODE") == "single"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """(NUBIS_STATE, port offset) of a running deployment, stacked here and purged after."""
    if os.environ.get("NUBIS_HA_TEST_STATE"):
        yield os.environ["NUBIS_HA_TEST_STATE"], int(os.environ.get("NUBIS_PORT_OFFSET", "0"))
        return
    if os.geteuid() != 0:
        pytest.fail("devstack needs root")
    base = tmp_path_factory.mktemp("ha")
    offset = ports.free_service_offset()
    env = dict(os.environ, NUBIS_STATE=str(base / "state"), NUBIS_CONF_DIR=str(base / "etc"),
               NUBIS_VENV=os.path.dirname(os.path.dirname(sys.executable)), NUBIS_PORT_OFFSET=str(offset))
    # A build must last long enough to kill the compute agent in its middle.
    local_conf = base / "local.conf"
    local_conf.write_text("[compute]\nfake_spawn_seconds = 3\nfake_vcpus = 256\nfake_memory_mb = 262144\n")
    env["NUBIS_LOCAL_CONF"] = str(local_conf)
    if not SINGLE:
        env["NUBIS_HA"] = "1"
    try:
        stack = subprocess.run([str(ROOT / "devstack" / "stack.sh")], env=env, capture_output=True, text=True,
                               timeout=1800)
        assert stack.returncode == 0, stack.stdout[-3000:] + stack.stderr[-3000:]
        yield env["NUBIS_STATE"], offset
    finally:
        subprocess.run([str(ROOT / "devstack" / "unstack.sh"), "--purge"], env=env, capture_output=True,
                       timeout=900)


def test_kill_matrix(deployment: tuple[str, int], tmp_path: Path) -> None:
    state, offset = deployment
    if not os.path.exists(os.path.join(state, "topology.json")):
        assert SINGLE, "devstack wrote no topology.json"
        topology.write_single_node(state, matrix.single_node_services(state, offset))
    topo = topology.Topology.load(state)
    if not SINGLE:
        assert topo.vip, "an HA deployment has a VIP"
    timings = matrix.Timings(5, 3, 5, 60, 120) if SINGLE else matrix.Timings()
    results = matrix.run(topo, timings=timings, log=lambda m: print(m, flush=True))
    report = matrix.table(results)
    print(report)
    assert results, "the matrix killed nothing"
    kinds = {r.kind for r in results}
    assert {"api", "conductor", "scheduler", "compute"} <= kinds, kinds
    for r in results:
        failed = [c for c in r.checks if not c.passed]
        assert not failed, f"{r.component}: {failed}\n{report}"
        assert r.sent > 0, f"{r.component}: the load sent nothing\n{report}"
    if not SINGLE:
        assert {"lb", "galera", "rabbit", "memcached"} <= kinds, kinds
        missed = [r.component for r in results if not r.meets_goal]
        assert not missed, f"failed requests beyond the goal: {missed}\n{report}"
        mean_rate = sum(r.rate for r in results) / len(results)
        assert mean_rate >= 20, f"the load ran at {mean_rate:.1f} req/s\n{report}"
