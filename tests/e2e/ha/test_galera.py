"""The HA devstack's database, devstack/lib/galera.sh, for real and as root: three MariaDB Galera nodes in
namespaces of a bridge of the test's own, then a node killed and started again, a node cut off and
healed, the HAProxy health check's verdicts, and HAProxy moving the one writer to the next node (and
keeping it there when the first comes back).

The tests run in file order on one cluster and each leaves it whole (three nodes Synced) for the next.
Timings go to stdout (pytest -s shows them).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import fixtures

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.ha,
    pytest.mark.skipif(os.geteuid() != 0, reason="the Galera cluster runs in network namespaces: needs root"),
]

ROOT = Path(__file__).resolve().parents[3]
LIB = ROOT / "devstack" / "lib"
CHECK = LIB / "galera-check"
# Names and a network of the test's own, so a running HA devstack (nha*, 10.252.0.0/24) is never touched.
PREFIX = "ntg"
NET_BASE = "10.253.0"
NODES = (1, 2, 3)
PASSWORD = "galera-test-secret"
SOURCES = f". {LIB}/ha-net.sh; . {LIB}/processes.sh; . {LIB}/galera.sh"


def addr(node: int) -> str:
    return f"{NET_BASE}.{20 + node}"


class Cluster:
    """The cluster galera.sh made under ``state``, driven through the library's own functions."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.pids = state / "pids"
        self.logs = state / "logs"
        self.env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "NUBIS_STATE": str(state), "PIDS": str(self.pids), "LOGS": str(self.logs),
            "NUBIS_HA_PREFIX": PREFIX, "NUBIS_HA_NET": f"{NET_BASE}.0/24",
            "GALERA_DB_USER": "nubis", "GALERA_DB_PASSWORD": PASSWORD,
        }

    def lib(self, script: str, timeout: float = 600) -> str:
        """Run ``script`` in bash with the libraries sourced; its stdout. Fails the test on an error."""
        done = subprocess.run(["bash", "-c", f"set -euo pipefail; {SOURCES}; {script}"], env=self.env,
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        assert done.returncode == 0, f"{script}: {done.stdout[-2000:]}{done.stderr[-2000:]}{self.log_tails()}"
        return done.stdout

    def log_tails(self) -> str:
        tails = []
        for node in NODES:
            log = self.logs / f"galera-{node}.log"
            if log.exists():
                tails.append(f"\n--- galera-{node}.log\n" + "\n".join(log.read_text().splitlines()[-15:]))
        return "".join(tails)

    def sql(self, node: int, query: str) -> subprocess.CompletedProcess[str]:
        """``query`` as root on ``node`` through its unix socket."""
        return subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.state}/galera/{node}/mysqld.sock", "-uroot",
             "--batch", "--skip-column-names", "-e", query],
            capture_output=True, text=True, timeout=60, env=self.env)

    def value(self, node: int, query: str) -> str:
        done = self.sql(node, query)
        assert done.returncode == 0, f"galera-{node}: {query}: {done.stderr}"
        return done.stdout.strip()

    def status(self, node: int, name: str) -> str:
        done = self.sql(node, f"SHOW GLOBAL STATUS LIKE '{name}'")
        return done.stdout.split("\t")[-1].strip() if done.returncode == 0 else ""

    def pid(self, node: int) -> int:
        return int((self.pids / f"galera-{node}.pid").read_text())

    def kill(self, node: int) -> None:
        pid = self.pid(node)
        os.kill(pid, signal.SIGKILL)
        fixtures.wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=10, what=f"pid {pid} gone")

    def restart(self, node: int) -> None:
        subprocess.run(["bash", str(self.pids / f"galera-{node}.start")], check=True, timeout=30)

    def check(self, node: int, port: int = 3306, via_env: bool = False) -> int:
        """galera-check's exit code for ``node`` with HAProxy's calling convention and an empty
        environment (HAProxy clears it), the server in the arguments or, ``via_env``, only in the env."""
        if via_env:
            argv, env = [str(CHECK)], {"HAPROXY_SERVER_ADDR": addr(node), "HAPROXY_SERVER_PORT": str(port)}
        else:
            argv, env = [str(CHECK), f"{NET_BASE}.2", "3306", addr(node), str(port)], {}
        return subprocess.run(argv, env=env, capture_output=True, timeout=10).returncode

    def client(self, host: str, query: str, database: str = "") -> subprocess.CompletedProcess[str]:
        """``query`` as the Nubis account over TCP, as the services connect."""
        return subprocess.run(
            ["mariadb", "--no-defaults", f"--host={host}", "--port=3306", "--user=nubis",
             f"--password={PASSWORD}", "--connect-timeout=3", "--batch", "--skip-column-names",
             "-e", query, *([database] if database else [])],
            capture_output=True, text=True, timeout=60)

    def count(self, node: int) -> int:
        return int(self.value(node, "SELECT COUNT(*) FROM nubis_ha.t"))

    def wait_whole(self) -> None:
        self.lib("galera_wait_cluster 300")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    state = tmp_path_factory.mktemp("galera") / "state"
    c = Cluster(state)
    c.pids.mkdir(parents=True)
    c.logs.mkdir()
    try:
        started = time.monotonic()
        c.lib("galera_up")
        print(f"\ngalera: cold bring-up of 3 nodes {time.monotonic() - started:.1f}s")
        yield c
    finally:
        subprocess.run(["bash", "-c", f"{SOURCES}; stop_launched haproxy-galera; galera_down; ha_net_down"],
                       env=c.env, timeout=300, cwd=ROOT, check=False)
        shutil.rmtree(state.parent, ignore_errors=True)


def test_up_replicates_and_grants(cluster: Cluster) -> None:
    for node in NODES:
        assert cluster.status(node, "wsrep_cluster_size") == "3"
        assert cluster.status(node, "wsrep_local_state_comment") == "Synced"
        assert cluster.check(node) == 0, f"galera-check says galera-{node} is unfit"
    assert cluster.check(2, via_env=True) == 0
    # Nothing listens there: refused at once, and the check says no.
    assert cluster.check(1, port=3307) != 0

    # The Nubis account may create its own databases over TCP, and nothing else.
    made = cluster.client(addr(1), "CREATE DATABASE nubis_ha; CREATE TABLE nubis_ha.t "
                                   "(id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40))")
    assert made.returncode == 0, made.stderr
    denied = cluster.client(addr(1), "CREATE DATABASE nubisx")
    assert denied.returncode != 0 and "Access denied" in denied.stderr
    # The health-check account can log in and read the status but owns no database.
    probe = subprocess.run(["mariadb", "--no-defaults", f"--host={addr(3)}", "--user=haproxy_check", "-e",
                            "CREATE DATABASE nubis_probe"], capture_output=True, text=True, timeout=30)
    assert "Access denied" in probe.stderr

    cluster.value(1, "INSERT INTO nubis_ha.t (note) VALUES ('through node 1'), ('also node 1')")
    for node in (2, 3):
        assert cluster.value(node, "SELECT note FROM nubis_ha.t ORDER BY id").splitlines() == [
            "through node 1", "also node 1"]

    # Running it again changes nothing: same processes, still whole.
    before = [cluster.pid(n) for n in NODES]
    cluster.lib("galera_up")
    assert [cluster.pid(n) for n in NODES] == before


def test_killed_node_rejoins_with_what_it_missed(cluster: Cluster) -> None:
    cluster.wait_whole()
    started = time.monotonic()
    cluster.kill(1)
    # The survivors keep a primary component of two and take writes (after Galera's suspect timeout).
    cluster.value(2, "INSERT INTO nubis_ha.t (note) VALUES ('node 1 dead: a'), ('node 1 dead: b')")
    print(f"\ngalera: first write after the kill took {time.monotonic() - started:.1f}s")
    assert cluster.status(2, "wsrep_cluster_size") == "2"
    assert cluster.status(3, "wsrep_cluster_status") == "Primary"
    cluster.value(3, "INSERT INTO nubis_ha.t (note) VALUES ('node 1 dead: c')")
    expected = cluster.count(2)

    started = time.monotonic()
    cluster.restart(1)
    cluster.lib("galera_node_wait_synced 1 300")
    print(f"galera: killed node restarted and Synced in {time.monotonic() - started:.1f}s")
    assert cluster.count(1) == expected
    assert "node 1 dead: c" in cluster.value(1, "SELECT note FROM nubis_ha.t")
    cluster.wait_whole()
    assert cluster.check(1) == 0
    # Its start script joins the cluster; it must never found a second one.
    assert "wsrep-new-cluster" not in (cluster.pids / "galera-1.start").read_text()


def test_partitioned_node_steps_aside_and_rejoins(cluster: Cluster) -> None:
    cluster.wait_whole()
    cluster.lib("galera_isolate 3")
    healed = False
    try:
        started = time.monotonic()
        cluster.value(1, "INSERT INTO nubis_ha.t (note) VALUES ('partitioned: a')")
        cluster.value(2, "INSERT INTO nubis_ha.t (note) VALUES ('partitioned: b')")
        fixtures.wait_until(lambda: cluster.status(3, "wsrep_cluster_status") == "non-Primary", timeout=60,
                            interval=0.5, what="galera-3 to notice it is cut off")
        print(f"\ngalera: isolated node non-Primary after {time.monotonic() - started:.1f}s")
        for node in (1, 2):
            assert cluster.status(node, "wsrep_cluster_status") == "Primary"
            assert cluster.status(node, "wsrep_cluster_size") == "2"
            assert cluster.check(node) == 0
        # Still answers, so only a check that looks at the cluster state turns it away.
        assert cluster.check(3) != 0
        refused = cluster.sql(3, "SELECT COUNT(*) FROM nubis_ha.t")
        assert refused.returncode != 0 and "WSREP has not yet prepared node" in refused.stderr
        cluster.value(1, "INSERT INTO nubis_ha.t (note) VALUES ('partitioned: c')")
        expected = cluster.count(1)

        started = time.monotonic()
        cluster.lib("galera_heal 3")
        healed = True
        cluster.lib("galera_node_wait_synced 3 300")
        print(f"galera: partition healed, node Synced in {time.monotonic() - started:.1f}s")
        assert cluster.count(3) == expected
        cluster.wait_whole()
        assert cluster.check(3) == 0
    finally:
        if not healed:
            cluster.lib("galera_heal 3")


def _writer(cluster: Cluster, vip: str) -> str:
    done = cluster.client(vip, "SELECT @@wsrep_node_name")
    return done.stdout.strip() if done.returncode == 0 else ""


def test_haproxy_moves_the_writer_to_a_backup(cluster: Cluster) -> None:
    if not shutil.which("haproxy"):
        pytest.skip("haproxy is not installed")
    cluster.wait_whole()
    lb = f"{NET_BASE}.2"
    backend = cluster.lib(f"galera_haproxy_backend {lb} 3306")
    global_lines = cluster.lib('printf "%s\\n" "$GALERA_HAPROXY_GLOBAL"')
    servers = [line.split() for line in backend.splitlines() if line.strip().startswith("server ")]
    assert [s[-2:] for s in servers] == [["check", "backup"]] * 3, backend
    assert "stick on dst" in backend, backend
    cfg = cluster.state / "haproxy.cfg"
    cfg.write_text(f"global\n{global_lines}\ndefaults\n    timeout connect 2s\n\n{backend}")
    cluster.lib(f"ha_ns_up lb-1 2; launch haproxy-galera --ns {PREFIX}-lb-1 -- haproxy -f {cfg} -db")

    fixtures.wait_until(lambda: _writer(cluster, lb) == "galera-1", timeout=30, interval=0.5,
                        what="HAProxy to send connections to galera-1")
    started = time.monotonic()
    cluster.kill(1)
    fixtures.wait_until(lambda: _writer(cluster, lb) == "galera-2", timeout=60, interval=0.2,
                        what="HAProxy to move the writer to galera-2")
    print(f"\nhaproxy: new connections reach galera-2 {time.monotonic() - started:.1f}s after the SIGKILL of galera-1")
    written = cluster.client(lb, "INSERT INTO nubis_ha.t (note) VALUES ('through haproxy')")
    assert written.returncode == 0, written.stderr

    cluster.restart(1)
    cluster.lib("galera_node_wait_synced 1 300")
    assert "through haproxy" in cluster.value(1, "SELECT note FROM nubis_ha.t")
    # The node back does not take the writes back: that would cut every connection a second time.
    time.sleep(3)  # three health checks that find galera-1 Synced again
    assert _writer(cluster, lb) == "galera-2"
    cluster.lib("stop_launched haproxy-galera")
    cluster.wait_whole()


def test_whole_cluster_starts_again_after_a_stop_and_after_a_crash(cluster: Cluster) -> None:
    cluster.wait_whole()
    cluster.value(2, "INSERT INTO nubis_ha.t (note) VALUES ('before the stop')")
    expected = cluster.count(2)

    # A clean stop leaves the first node marked as the one to start from, and removes nothing.
    cluster.lib("galera_down")
    assert not any((cluster.pids / f"galera-{n}.pid").exists() for n in NODES)
    grastate = [(cluster.state / f"galera/{n}/data/grastate.dat").read_text() for n in NODES]
    assert ["safe_to_bootstrap: 1" in g for g in grastate] == [True, False, False], grastate
    started = time.monotonic()
    cluster.lib("galera_up")
    print(f"\ngalera: cluster up again after galera_down in {time.monotonic() - started:.1f}s")
    assert all(cluster.count(n) == expected for n in NODES)

    # Every node killed at once: no node is safe to start from, and the positions are only in InnoDB;
    # galera_up recovers them, starts from the latest, and nothing committed is lost.
    cluster.value(3, "INSERT INTO nubis_ha.t (note) VALUES ('just before the crash')")
    expected += 1
    for node in NODES:
        cluster.kill(node)
    started = time.monotonic()
    cluster.lib("galera_up")
    print(f"galera: cluster up again after all three were killed in {time.monotonic() - started:.1f}s")
    assert all(cluster.count(n) == expected for n in NODES)
    assert all(cluster.check(n) == 0 for n in NODES)
