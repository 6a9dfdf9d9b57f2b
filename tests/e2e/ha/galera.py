"""The HA devstack's Galera nodes as the kill matrix sees them: cut one off the network and heal it
(devstack/lib/ha-net.sh's way: the node's veth on the bridge goes down), wait until every node is Synced
again, and check that no row was lost (every node holds the same data).

Nodes are reached through their unix sockets (``<state>/galera/N/mysqld.sock``, as devstack/lib/galera.sh
lays them out), so the checks do not depend on the network they are testing.
"""

from __future__ import annotations

import os
import subprocess
import time

from tests.e2e.ha.consistency import CheckResult
from tests.e2e.ha.topology import Component, Topology, wait_until

# Tables whose rows a lost write would show in: servers, their claims, ports, tokens' users, images.
CHECKSUMMED = ("nubis_compute.instances", "nubis_placement.allocations", "nubis_network.ports",
               "nubis_identity.user", "nubis_image.images")


def _socket(topo: Topology, node: Component) -> str:
    state = os.path.dirname(topo.pids_dir)
    return os.path.join(state, "galera", node.name.rsplit("-", 1)[1], "mysqld.sock")


def _sql(topo: Topology, node: Component, statement: str) -> list[list[str]]:
    out = subprocess.run(["mariadb", "--no-defaults", "-S", _socket(topo, node), "-uroot", "-N", "--batch",
                          "-e", statement], capture_output=True, text=True, timeout=30, check=True)
    return [line.split("\t") for line in out.stdout.splitlines()]


def writer(topo: Topology, user: str = "nubis") -> Component | None:
    """The node HAProxy sends the cloud's connections to now: the one holding the most of ``user``'s
    sessions (HAProxy keeps them all on one node, and moves them only when it fails). None: no node
    holds any."""
    best, sessions = None, 0
    for node in topo.of_kind("galera"):
        try:
            rows = _sql(topo, node, f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '{user}'")
        except (subprocess.SubprocessError, OSError):
            continue  # down or cut off: not the writer
        if int(rows[0][0]) > sessions:
            best, sessions = node, int(rows[0][0])
    return best


def _host_link(node: Component) -> str:
    # ha-net.sh names the host end of a node's veth after its namespace (prefix-node, node cut at 9).
    return node.namespace()


def isolate(node: Component) -> float:
    """Cut ``node`` off the bridge; returns when (time.time())."""
    at = time.time()
    subprocess.run(["ip", "link", "set", _host_link(node), "down"], check=True, timeout=10)
    return at


def heal(topo: Topology, node: Component, timeout: float) -> float:
    """Put ``node`` back on the bridge and wait until it is Synced again; returns the seconds that took.

    Raises RuntimeError when it is not Synced within ``timeout``."""
    began = time.monotonic()
    subprocess.run(["ip", "link", "set", _host_link(node), "up"], check=True, timeout=10)
    if not wait_until(lambda: _synced(topo, node), timeout, 0.5):
        raise RuntimeError(f"{node.name} not Synced {timeout:.0f} s after it was healed")
    return time.monotonic() - began


def _synced(topo: Topology, node: Component) -> bool:
    try:
        rows = dict(_sql(topo, node, "SHOW STATUS WHERE Variable_name IN "
                                     "('wsrep_local_state_comment', 'wsrep_cluster_status')"))
    except (subprocess.SubprocessError, OSError):
        return False
    return rows.get("wsrep_local_state_comment") == "Synced" and rows.get("wsrep_cluster_status") == "Primary"


def wait_synced(topo: Topology, timeout: float) -> None:
    """Wait until every Galera node is Synced in the Primary component; RuntimeError naming the laggards."""
    nodes = topo.of_kind("galera")
    if not wait_until(lambda: all(_synced(topo, n) for n in nodes), timeout, 0.5):
        late = [n.name for n in nodes if not _synced(topo, n)]
        raise RuntimeError(f"Galera nodes not Synced after {timeout:.0f} s: {', '.join(late)}")


def same_rows_everywhere(topo: Topology, attempts: int = 10) -> CheckResult:
    """Every node holds the same rows in ``CHECKSUMMED`` (CHECKSUM TABLE on each, compared).

    The load goes on meanwhile (tokens, ports), so one comparison can catch a write between two nodes'
    reads: it is taken again, up to ``attempts`` times a second apart, and passes when one round agrees.
    Each read first waits for the node to have applied what the cluster committed (wsrep_sync_wait)."""
    differ: list[str] = []
    sums: dict[str, list[list[str]]] = {}
    for _ in range(attempts):
        sums = {node.name: _sql(topo, node, "SET SESSION wsrep_sync_wait = 1; CHECKSUM TABLE "
                                + ", ".join(CHECKSUMMED))
                for node in topo.of_kind("galera")}
        first = next(iter(sums.values()))
        differ = [name for name, rows in sums.items() if rows != first]
        if not differ:
            break
        time.sleep(1)
    detail = "; ".join(f"{name}: {rows}" for name, rows in sums.items()) if differ else ""
    return CheckResult("every Galera node holds the same rows", not differ, detail)
