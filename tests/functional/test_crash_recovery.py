"""``nubis all-in-one`` killed or stopped in the middle of boots and deletes, then started again on its state.

The fake driver is made slow (seconds per guest created or removed) so there is
a moment to interrupt, and keeps its guests in the state directory, as a
hypervisor keeps them across an agent restart. After the restart nothing may
stay in BUILD or in a task: each server is ACTIVE, in ERROR with a fault saying
why, or gone; placement holds exactly the flavors of the servers that run; no
port is left without its server.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional import cloud as cloud_fixture
from tests.functional.placement.conftest import placement_client
from tests.functional.test_all_in_one import _free_offset, _start

pytestmark = pytest.mark.skipif(not os.path.exists(cloud_fixture.OPENSTACK_CLI), reason="needs the installed tools")

SPAWN_SECONDS, DESTROY_SECONDS, GRACE = 3, 3, 20
SETTINGS = {
    "DEFAULT": {"graceful_shutdown_timeout": str(GRACE)},
    "compute": {"fake_spawn_seconds": str(SPAWN_SECONDS), "fake_destroy_seconds": str(DESTROY_SECONDS),
                "report_interval": "1"},
    "quota": {"instances": "-1", "cores": "-1", "ram": "-1"},
}


class AllInOne:
    """The all-in-one as its own process on one state directory; started and stopped by pid only."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.offset = _free_offset()
        self.proc: subprocess.Popen[str] | None = None
        os.makedirs(state, mode=0o700, exist_ok=True)
        with open(os.path.join(state, "nubis.conf"), "w") as f:
            for group, values in SETTINGS.items():
                f.write(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))

    def start(self) -> cloud_fixture.Cloud:
        self.proc, _ = _start(self.state, self.offset)
        return cloud_fixture.Cloud.from_openrc(os.path.join(self.state, "openrc"))

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; (exit status, seconds it took)."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=GRACE + 30)
        return code, time.monotonic() - began

    def log(self) -> str:
        with open(os.path.join(self.state, "logs", "nubis.log")) as f:
            return f.read()[-6000:]

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture
def aio(tmp_path: Any) -> Iterator[AllInOne]:
    process = AllInOne(str(tmp_path / "state"))
    try:
        yield process
    finally:
        process.close()


def _prepare(conn: Any) -> tuple[str, Any, str]:
    image = conn.image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                    data=io.BytesIO(b"\0" * 4096), visibility="public")
    flavor = conn.compute.create_flavor(name="crash.tiny", ram=128, vcpus=1, disk=1)
    net = conn.network.create_network(name="crash-net")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.60.0.0/24")
    return str(image.id), flavor, str(net.id)


def _boot(conn: Any, image: str, flavor: Any, network: str, name: str) -> str:
    return str(conn.compute.create_server(name=name, image_id=image, flavor_id=flavor.id,
                                          networks=[{"uuid": network}]).id)


def _wait_for(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.2)


def _settled(conn: Any) -> list[Any]:
    """The servers once none is in BUILD or in a task any more (within a bounded time)."""
    def check() -> list[Any] | None:
        servers = list(conn.compute.servers())
        busy = [(s.name, s.status, s.task_state) for s in servers if s.status == "BUILD" or s.task_state]
        return None if busy else servers or [None]
    return [s for s in _wait_for("every server out of BUILD and tasks", check) if s is not None]


def _assert_consistent(cloud: cloud_fixture.Cloud, conn: Any, flavor: Any) -> list[Any]:
    """Each server ACTIVE or ERROR with a fault; placement holds the ACTIVE ones' flavors; no stray port."""
    servers = _settled(conn)
    for server in servers:
        assert server.status in ("ACTIVE", "ERROR"), (server.name, server.status)
        if server.status == "ERROR":
            assert server.fault and "interrupted" in server.fault["message"], (server.name, server.fault)
    active = [s for s in servers if s.status == "ACTIVE"]
    placement = placement_client(cloud)
    used = {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    for rp in placement.get("/resource_providers").json()["resource_providers"]:
        for rc, amount in placement.get(f"/resource_providers/{rp['uuid']}/usages").json()["usages"].items():
            if amount:
                used[rc] = used.get(rc, 0) + amount
    assert used == {"VCPU": flavor.vcpus * len(active), "MEMORY_MB": flavor.ram * len(active),
                    "DISK_GB": flavor.disk * len(active)}, [(s.name, s.status) for s in servers]
    owners = sorted(p.device_id for p in conn.network.ports() if (p.device_owner or "").startswith("compute:"))
    assert owners == sorted(s.id for s in active)
    return servers


def test_sigkill_during_boots_then_restart(aio: AllInOne) -> None:
    cloud = aio.start()
    conn = cloud.connection()
    image, flavor, network = _prepare(conn)
    done = [_boot(conn, image, flavor, network, f"done-{i}") for i in range(2)]
    _wait_for("the first servers ACTIVE", lambda: all(conn.compute.get_server(s).status == "ACTIVE" for s in done))
    spawning = [_boot(conn, image, flavor, network, f"spawning-{i}") for i in range(3)]
    _wait_for("servers spawning", lambda: all(conn.compute.get_server(s).task_state == "spawning"
                                              for s in spawning))
    just_asked = [_boot(conn, image, flavor, network, f"asked-{i}") for i in range(2)]
    aio.kill()  # mid-flight: guests being created, boots being scheduled or just accepted

    cloud = aio.start()
    conn = cloud.connection()
    try:
        servers = {s.id: s for s in _assert_consistent(cloud, conn, flavor)}
    except AssertionError:
        print(aio.log())
        raise
    assert set(servers) == {*done, *spawning, *just_asked}
    assert all(servers[s].status == "ACTIVE" for s in done)
    interrupted = [s for s in servers.values() if s.status == "ERROR"]
    assert interrupted, "nothing was caught in flight: the kill came too late to test anything"
    for server in interrupted:
        assert placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"] == {}
        actions = list(conn.compute.server_actions(server.id))
        assert [a.action for a in actions] == ["create"] and actions[0].message == "Error"

    # The cloud still works: the interrupted servers can be deleted, a new one boots.
    for server in interrupted:
        conn.compute.delete_server(server.id)
    fresh = _boot(conn, image, flavor, network, "after")
    _wait_for("a new server ACTIVE", lambda: conn.compute.get_server(fresh).status == "ACTIVE")
    _wait_for("the interrupted ones deleted", lambda: not [s for s in conn.compute.servers() if s.status == "ERROR"])
    _assert_consistent(cloud, conn, flavor)


def test_sigkill_during_deletes_then_restart(aio: AllInOne) -> None:
    cloud = aio.start()
    conn = cloud.connection()
    image, flavor, network = _prepare(conn)
    servers = [_boot(conn, image, flavor, network, f"doomed-{i}") for i in range(3)]
    kept = _boot(conn, image, flavor, network, "kept")
    _wait_for("servers ACTIVE", lambda: all(conn.compute.get_server(s).status == "ACTIVE" for s in [*servers, kept]))
    for server in servers:
        conn.compute.delete_server(server)
    _wait_for("deletes under way", lambda: all(conn.compute.get_server(s).task_state == "deleting" for s in servers))
    aio.kill()  # mid-delete: guests being removed

    cloud = aio.start()
    conn = cloud.connection()
    try:
        _wait_for("the deletes completed", lambda: [s.id for s in conn.compute.servers()] == [kept])
        _assert_consistent(cloud, conn, flavor)
    except AssertionError:
        print(aio.log())
        raise
    assert conn.compute.get_server(kept).status == "ACTIVE"
    for server in servers:
        assert placement_client(cloud).get(f"/allocations/{server}").json()["allocations"] == {}


def test_sigterm_during_a_networked_boot_drains_in_time_and_the_boot_resumes(aio: AllInOne) -> None:
    cloud = aio.start()
    conn = cloud.connection()
    image, flavor, network = _prepare(conn)
    # A port the network agent will not wire while it is down: the boot waits for it (vif plugging).
    port = conn.network.create_port(network_id=network, admin_state_up=False)
    server = str(conn.compute.create_server(name="waiting", image_id=image, flavor_id=flavor.id,
                                            networks=[{"port": port.id}]).id)
    _wait_for("the guest created, waiting for its port", lambda: conn.network.get_port(port.id).binding_host_id)
    time.sleep(SPAWN_SECONDS + 1)
    code, took = aio.terminate()
    assert code == 0 and took < GRACE, f"exit status {code} after {took:.1f}s (bound {GRACE}s)\n{aio.log()}"

    cloud = aio.start()
    conn = cloud.connection()
    assert conn.compute.get_server(server).status == "BUILD"  # set aside, not failed: it resumes
    conn.network.update_port(port.id, admin_state_up=True)
    try:
        _wait_for("the resumed boot ACTIVE", lambda: conn.compute.get_server(server).status == "ACTIVE")
        _assert_consistent(cloud, conn, flavor)
    except AssertionError:
        print(aio.log())
        raise
    code, took = aio.terminate()
    assert code == 0 and took < GRACE
