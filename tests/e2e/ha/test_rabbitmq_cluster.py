"""The HA broker: devstack/lib/rabbitmq.sh's three-node RabbitMQ cluster, and Nubis's RPC over it
surviving the SIGKILL of a node.

Real broker nodes started through the library (own state dir, ports 5683..5685 and node names, so a
running HA devstack and the machine's broker are never touched); Nubis's own messaging helpers with the
library's ``[oslo_messaging_rabbit]`` snippet.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import oslo_messaging
import pytest

from nubis.cmd import common
from nubis.common import context, rpc
from tests import fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.ha]

LIB = Path(__file__).resolve().parents[3] / "devstack" / "lib"
PORT_BASE = 5683  # clear of the machine's broker (5672) and an HA devstack's (5673..5675)
NODES = (1, 2, 3)
# How long calls may keep failing after a node is killed before the test calls it a failure: the
# clients' reconnect back-off (1 s, 2 s, ... up to 5 s) plus a quorum queue leader election plus
# one call timeout.
FAILOVER_BOUND_S = 30.0
CALL_TIMEOUT_S = 3
CALLERS = 4  # threads calling at once, so that calls are in flight when a node dies


class Cluster:
    """The library's cluster under a directory of the test's own; every call is a bash call of the library."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "NUBIS_STATE": str(root / "state"),
            "PIDS": str(root / "pids"),
            "LOGS": str(root / "logs"),
            "NUBIS_PORT_OFFSET": "0",
            "RABBIT_HA_PORT_BASE": str(PORT_BASE),
            "RABBIT_HA_NODE_PREFIX": f"nubis-hatest-{os.getpid()}-",
            "RABBIT_HA_VHOST": "nubis-test",
            "RABBIT_HA_USER": "nubis-test",
            "RABBIT_HA_PASSWORD": uuid.uuid4().hex,
        }
        for key in ("NUBIS_STATE", "PIDS", "LOGS"):
            Path(self.env[key]).mkdir(parents=True, exist_ok=True)

    def lib(self, script: str, timeout: float = 300) -> str:
        """Run ``script`` with the library sourced; its stdout."""
        done = subprocess.run(
            ["bash", "-c", f"set -euo pipefail; source {LIB}/processes.sh; source {LIB}/rabbitmq.sh; {script}"],
            env=self.env, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise AssertionError(f"{script!r} failed ({done.returncode}): {done.stderr}\n{done.stdout}")
        return done.stdout

    def ctl(self, node: int, *args: str) -> str:
        return self.lib(shlex.join(["rabbit_ctl", str(node), *args]))

    def pid(self, node: int) -> int:
        return int((self.root / "pids" / f"rabbit-{node}.pid").read_text())

    def node_name(self, node: int) -> str:
        return f"{self.env['RABBIT_HA_NODE_PREFIX']}{node}@localhost"

    def running_nodes(self, node: int) -> set[str]:
        out = self.ctl(node, "eval", "rabbit_nodes:all_running().")
        return {name.strip(" '[]\n") for name in out.split(",")} - {""}


def _rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if os.geteuid() != 0:
        pytest.skip("needs root (runs RabbitMQ nodes of its own)")
    if not (Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists() or shutil.which("rabbitmq-server")):
        pytest.skip("needs RabbitMQ installed")
    root = tmp_path_factory.mktemp("rabbit-ha")
    c = Cluster(root)
    try:
        c.lib("rabbit_up")
        yield c
    finally:
        c.lib("rabbit_down")
        # The nodes' own logs outlive the run, in pytest's kept temp dirs (where a failure is explained).
        logs = tmp_path_factory.mktemp("rabbit-ha-logs")
        for n in NODES:
            log_dir = root / "state" / "rabbitmq" / str(n) / "log"
            if log_dir.exists():
                shutil.copytree(log_dir, logs / str(n))
        c.lib("rabbit_purge")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def messaging(cluster: Cluster, tmp_path: Path) -> Iterator[rpc.Messaging]:
    """Nubis's messaging on the cluster, configured as the HA devstack writes nubis.conf."""
    url = cluster.lib("rabbit_transport_url").strip()
    conf_file = tmp_path / "nubis.conf"
    conf_file.write_text(f"[DEFAULT]\ntransport_url = {url}\n\n{cluster.lib('rabbit_conf_snippet')}")
    conf = common.build_conf([])
    conf(["--config-file", str(conf_file)], default_config_files=[])
    conf.set_override("state_path", str(tmp_path))
    rpc.register_opts(conf)
    # An exchange per test: the topic queues of one test are not another's.
    conf.set_override("control_exchange", f"nubis-ha-{uuid.uuid4().hex[:8]}")
    m = rpc.Messaging(conf)
    yield m
    m.cleanup()


class Endpoint:
    target = oslo_messaging.Target(version="1.0")

    def __init__(self) -> None:
        self.casts: list[str] = []
        self.cast_seen = threading.Condition()

    def echo(self, ctxt: context.RequestContext, value: str) -> str:
        return value

    def remember(self, ctxt: context.RequestContext, value: str) -> None:
        with self.cast_seen:
            self.casts.append(value)
            self.cast_seen.notify_all()

    def has_cast(self, value: str) -> bool:
        with self.cast_seen:
            return value in self.casts


class HAEchoAPI(rpc.RPCClient):
    """Test RPC API.

    1.0 - echo, remember
    """

    TOPIC = "ha-echo"
    VERSION = "1.0"


class NotificationEndpoint:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def info(self, ctxt: dict[str, Any], publisher_id: str, event_type: str, payload: dict[str, Any],
             metadata: dict[str, Any]) -> None:
        self.seen.append(payload["value"])


@dataclass
class CallLog:
    """Calls made in a loop from a thread: when each started and whether it got its answer."""

    # (started, answered, why not, seconds it took)
    results: list[tuple[float, bool, str, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def since(self, t0: float) -> list[tuple[float, bool, str, float]]:
        return [r for r in self.results if r[0] >= t0]


def _call_loop(api: HAEchoAPI, log: CallLog) -> None:
    ctx = context.RequestContext(user_id="u1", project_id="p1")
    n = 0
    while not log.stop.is_set():
        n += 1
        started = time.monotonic()
        try:
            ok = api.prepare(server="host1", timeout=CALL_TIMEOUT_S).call(ctx, "echo", value=str(n)) == str(n)
            log.results.append((started, ok, "" if ok else "wrong answer", time.monotonic() - started))
        except Exception as e:  # noqa: BLE001 - every failure counts, whatever its kind
            log.results.append((started, False, type(e).__name__, time.monotonic() - started))
        time.sleep(0.1)


def _queue_types(cluster: Cluster, node: int) -> dict[str, str]:
    out = cluster.ctl(node, "list_queues", "-p", cluster.env["RABBIT_HA_VHOST"], "--silent", "name", "type")
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def _consumer_nodes(cluster: Cluster, node: int, queue_prefix: str) -> set[str]:
    """The nodes whose connections consume from queues named ``queue_prefix``...: a consumer's channel
    pid names the node its connection is on."""
    out = cluster.ctl(node, "list_consumers", "-p", cluster.env["RABBIT_HA_VHOST"], "--silent",
                      "queue_name", "channel_pid")
    nodes = set()
    for line in out.splitlines():
        queue, _, channel = line.partition("\t")
        if queue.startswith(queue_prefix):
            nodes.add(channel.strip("<>").rsplit(".", 3)[0])
    return nodes


def _kill_and_fail_over(cluster: Cluster, victim: int, log: CallLog) -> int:
    """SIGKILL node ``victim`` while ``log``'s calls run and wait until calls are answered again; the pid
    it had."""
    others = [n for n in NODES if n != victim]
    victim_pid = cluster.pid(victim)
    killed_at = time.monotonic()
    os.kill(victim_pid, signal.SIGKILL)
    fixtures.wait_until(lambda: not _alive(victim_pid), timeout=10, what="the killed node's VM gone")

    def recovered() -> bool:
        # Five answered calls in a row, all started after the kill.
        after = [ok for _, ok, _, _ in log.since(killed_at)]
        return len(after) >= 5 and all(after[-5:])

    fixtures.wait_until(recovered, timeout=FAILOVER_BOUND_S, interval=0.2,
                        what=lambda: f"calls to be answered again after the kill: {log.results[-10:]}")
    # Calls in flight when the node died count too.
    window = log.since(killed_at - CALL_TIMEOUT_S)
    failed = [r for r in window if not r[1]]
    last_failure = max((started for started, _, _, _ in failed), default=killed_at)
    first_ok = min(started for started, ok, _, _ in window if ok and started > last_failure)
    print(f"\nkilled {cluster.node_name(victim)}: {len(failed)} of {len(window)} calls failed "
          f"{sorted({why for _, _, why, _ in failed})}, calls answered again {first_ok - killed_at:.1f}s "
          f"after the kill, slowest answered call {max(took for _, ok, _, took in window if ok):.2f}s")
    assert cluster.running_nodes(others[0]) == {cluster.node_name(n) for n in others}
    return victim_pid


def _restart(cluster: Cluster, victim: int, old_pid: int) -> None:
    """Start the killed node again through its recorded start script; it rejoins the cluster by itself."""
    subprocess.run(["bash", str(cluster.root / "pids" / f"rabbit-{victim}.start")], check=True,
                   env=cluster.env, timeout=60)
    assert cluster.pid(victim) != old_pid
    cluster.lib(f"rabbit_wait_cluster {victim}")
    others = [n for n in NODES if n != victim]
    assert cluster.running_nodes(others[0]) == {cluster.node_name(n) for n in NODES}


def test_three_nodes_run_clustered_each_its_own_vm(cluster: Cluster) -> None:
    expected = {cluster.node_name(n) for n in NODES}
    for n in NODES:
        assert cluster.running_nodes(n) == expected
        # The recorded pid is the node's Erlang VM itself, so a SIGKILL of it is the node's death.
        assert Path(f"/proc/{cluster.pid(n)}/exe").resolve().name == "beam.smp"
    # The machine's broker and node names are not the cluster's.
    assert all(not name.startswith("rabbit@") for name in expected)
    url = cluster.lib("rabbit_transport_url").strip()
    user, password = cluster.env["RABBIT_HA_USER"], cluster.env["RABBIT_HA_PASSWORD"]
    assert url == "rabbit://" + ",".join(
        f"{user}:{password}@127.0.0.1:{PORT_BASE + i}" for i in range(3)) + "/nubis-test"
    # rabbit_up again changes nothing and fails nothing.
    pids = [cluster.pid(n) for n in NODES]
    cluster.lib("rabbit_up")
    assert [cluster.pid(n) for n in NODES] == pids


def test_conf_snippet_sets_options_this_oslo_messaging_has(cluster: Cluster, messaging: rpc.Messaging) -> None:
    """oslo.config ignores unknown options in a file, so a misspelt or removed option would silently do
    nothing: every line of the snippet must name an option of the installed oslo.messaging and set it."""
    group = messaging.conf.oslo_messaging_rabbit
    lines = [line for line in cluster.lib("rabbit_conf_snippet").splitlines()
             if line.strip() and not line.startswith(("#", "["))]
    assert len(lines) >= 10, lines
    for line in lines:
        key, _, value = (part.strip() for part in line.partition("="))
        assert key in group, f"{key} is no [oslo_messaging_rabbit] option of this oslo.messaging"
        assert str(group[key]).lower() == value.lower(), (key, group[key], value)


def test_rpc_survives_sigkill_of_the_clients_node(cluster: Cluster, messaging: rpc.Messaging) -> None:
    endpoint = Endpoint()
    server = rpc.make_server(messaging, HAEchoAPI.TOPIC, "host1", [endpoint])
    server.start()
    notified = NotificationEndpoint()
    listener = oslo_messaging.get_notification_listener(
        messaging.notification_transport, [oslo_messaging.Target(topic="versioned_notifications")],
        [notified], executor="threading")
    listener.start()
    api = HAEchoAPI(messaging)
    notifier = rpc.Notifier(messaging, "test", "host1")
    ctx = context.RequestContext(user_id="u1", project_id="p1")
    log = CallLog()
    callers = [threading.Thread(target=_call_loop, args=(api, log), daemon=True) for _ in range(CALLERS)]
    try:
        # Everything works before the kill: call, cast, fanout cast, notification.
        assert api.prepare(server="host1").call(ctx, "echo", value="hello") == "hello"
        api.prepare(server="host1").cast(ctx, "remember", value="before")
        api.prepare(fanout=True).cast(ctx, "remember", value="fanout-before")
        notifier.info(ctx, "test.before", {"value": "before"})
        fixtures.wait_until(lambda: endpoint.has_cast("before") and endpoint.has_cast("fanout-before"),
                            what="the casts before the kill")
        fixtures.wait_until(lambda: "before" in notified.seen, what="the notification before the kill")

        # Every queue oslo.messaging declared is a quorum queue: the topic and server queues, the
        # reply queue, the fanout queue, the notification queue.
        types = _queue_types(cluster, 1)
        ours = {name: kind for name, kind in types.items()
                if name.startswith((HAEchoAPI.TOPIC, "reply_", "versioned_notifications"))}
        assert {f"{HAEchoAPI.TOPIC}", f"{HAEchoAPI.TOPIC}.host1", "versioned_notifications.info"} <= set(ours), types
        assert any(name.startswith(f"{HAEchoAPI.TOPIC}_fanout_") for name in ours), types
        assert any(name.startswith("reply_") for name in ours), types
        assert set(ours.values()) == {"quorum"}, ours
        # ... with a member on each of the three nodes.
        members = cluster.ctl(1, "list_queues", "-p", cluster.env["RABBIT_HA_VHOST"], "--silent", "name", "members")
        topic_members = next(line for line in members.splitlines() if line.split("\t")[0] == HAEchoAPI.TOPIC)
        assert all(cluster.node_name(n) in topic_members for n in NODES), topic_members

        # Kill each node in turn under a stream of calls, first the one the client's replies come
        # through (where its reply queue consumer is connected), and start it again.
        reply_nodes = _consumer_nodes(cluster, 1, "reply_")
        assert len(reply_nodes) == 1, reply_nodes
        first = next(n for n in NODES if cluster.node_name(n) in reply_nodes)
        for caller in callers:
            caller.start()
        fixtures.wait_until(lambda: sum(ok for _, ok, _, _ in log.results) >= 10, what="ten calls before the kill")
        for victim in [first, *(n for n in NODES if n != first)]:
            victim_pid = _kill_and_fail_over(cluster, victim, log)
            # With the node still down, casts, fanout casts and notifications go through too.
            tag = f"without-{victim}"
            api.prepare(server="host1").cast(ctx, "remember", value=tag)
            api.prepare(fanout=True).cast(ctx, "remember", value=f"fanout-{tag}")
            notifier.info(ctx, "test.without", {"value": tag})

            def delivered(tag: str = tag) -> bool:
                return endpoint.has_cast(tag) and endpoint.has_cast(f"fanout-{tag}") and tag in notified.seen

            fixtures.wait_until(delivered, timeout=FAILOVER_BOUND_S,
                                what=f"the casts and the notification with node {victim} down")
            _restart(cluster, victim, victim_pid)
        print(f"calls answered: {sum(ok for _, ok, _, _ in log.results)} of {len(log.results)}; node memory (RSS): "
              + ", ".join(f"{_rss_mib(cluster.pid(n))} MiB" for n in NODES))
    finally:
        log.stop.set()
        for caller in callers:
            if caller.is_alive():
                caller.join(timeout=2 * CALL_TIMEOUT_S)
        listener.stop()
        listener.wait()
        server.stop()
        server.wait()


def test_whole_cluster_restarts_with_its_users(cluster: Cluster) -> None:
    """rabbit_down then rabbit_up: the nodes come back clustered (no joining again) with the vhost and
    user, and the user can still log in."""
    old = [cluster.pid(n) for n in NODES]
    cluster.lib("rabbit_down")
    assert not any(_alive(pid) for pid in old)
    assert not any((cluster.root / "pids" / f"rabbit-{n}.pid").exists() for n in NODES)
    cluster.lib("rabbit_up")
    assert all(cluster.running_nodes(n) == {cluster.node_name(n) for n in NODES} for n in NODES)
    user, vhost = cluster.env["RABBIT_HA_USER"], cluster.env["RABBIT_HA_VHOST"]
    cluster.ctl(2, "authenticate_user", user, cluster.env["RABBIT_HA_PASSWORD"])
    assert user in cluster.ctl(3, "list_permissions", "-p", vhost, "--silent")
    assert "guest" not in cluster.ctl(1, "list_users", "--silent")
