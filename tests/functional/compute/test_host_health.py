"""Host health as admins and projects see it: ``host_status`` in server views (2.16) as a host's compute agent
stops reporting, is disabled or forced down; and ``nubis-manage host evacuate-plan``, a dry run through the
scheduler."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import pytest
import requests

from nubis import services
from nubis.cmd import common
from nubis.common import config
from nubis.common.runtime import Runtime
from nubis.compute import manage
from tests import fixtures
from tests.functional.compute.conftest import SERVICES, ComputeCloud, boot, start_extra_agent, wait_for_status


def _get(cloud: ComputeCloud, path: str, version: str, token: str | None = None) -> requests.Response:
    return requests.get(f"{cloud.url('compute-api')}/v2.1{path}", timeout=30,
                        headers={"X-Auth-Token": token or cloud.connection().session.get_token(),
                                 "OpenStack-API-Version": f"compute {version}"})


def _host_status(cloud: ComputeCloud, server_id: str, version: str = "2.16", token: str | None = None) -> Any:
    resp = _get(cloud, f"/servers/{server_id}", version, token)
    assert resp.status_code == 200, resp.text
    return resp.json()["server"].get("host_status", "<absent>")


def _listed_status(cloud: ComputeCloud, server_id: str) -> str:
    resp = _get(cloud, "/servers/detail?all_tenants=1", "2.16")
    assert resp.status_code == 200, resp.text
    return next(s for s in resp.json()["servers"] if s["id"] == server_id)["host_status"]  # type: ignore[no-any-return]


def _service(cloud: ComputeCloud, host: str) -> Any:
    return next(s for s in cloud.connection().compute.services() if s.host == host)


def _runtime(cloud: ComputeCloud) -> Runtime:
    """A runtime like ``nubis-manage``'s, on the cloud's config and (in-process) transport."""
    aio = cloud.aio
    assert aio.runtime is not None
    conf = common.build_conf([services.load(n) for n in ["identity", *SERVICES]])
    config.parse_args(conf, [], default_config_files=[os.path.join(aio.state_dir, "all-in-one.conf")])
    return Runtime(conf, messaging=aio.runtime.messaging)


def _plan(cloud: ComputeCloud, host: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    runtime = _runtime(cloud)
    capsys.readouterr()
    try:
        code = manage.evacuate_plan(runtime, argparse.Namespace(host=host, format="json"))
    finally:
        runtime.close()
    out = capsys.readouterr().out
    return code, (json.loads(out) if code != 1 else {"error": out})


@pytest.fixture
def lone_host(cloud: ComputeCloud) -> Any:
    """A compute host of this test's own, which it may stop (the other tests keep theirs)."""
    host = f"health-{os.getpid() % 1000}"
    _, running = start_extra_agent(cloud, host)
    fixtures.wait_until(lambda: any(s.host == host and s.state == "up" for s in cloud.connection().compute.services()),
                        timeout=30, what=f"{host} to report")
    yield host, running
    for item in reversed(running):
        item.stop()


def test_host_status_follows_the_compute_service(cloud: ComputeCloud, image_id: str, flavor_id: str,
                                                 lone_host: Any, capsys: pytest.CaptureFixture[str]) -> None:
    host, running = lone_host
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id, availability_zone=f"nova:{host}").id, "ACTIVE")
    assert server.compute_host == host
    assert _host_status(cloud, server.id) == "UP"
    assert _listed_status(cloud, server.id) == "UP"
    assert _host_status(cloud, server.id, "2.15") == "<absent>"  # the field came in 2.16

    # A project member may not see it (servers:show:host_status and :unknown-only are admin rules by default).
    member = cloud.new_user()
    member_conn = cloud.connection(member)
    mine = wait_for_status(member_conn, member_conn.compute.create_server(
        name="mine", image_id=image_id, flavor_id=flavor_id, networks="none").id, "ACTIVE")
    assert _host_status(cloud, mine.id, token=member_conn.session.get_token()) == "<absent>"
    assert _host_status(cloud, mine.id) == "UP"

    # The plan while the host is healthy: each instance to another host, nothing claimed.
    code, plan = _plan(cloud, host, capsys)
    assert code == 0, plan
    moves = {m["instance_uuid"]: m for m in plan["instances"]}
    assert set(moves) == {server.id} | ({mine.id} if mine.compute_host == host else set())
    assert moves[server.id]["destination"] not in (None, host)
    assert host not in moves[server.id]["candidates"]
    assert wait_for_status(conn, server.id, "ACTIVE").compute_host == host  # the dry run moved nothing

    service = _service(cloud, host)
    conn.compute.disable_service(service, service.host, service.binary, disabled_reason="maintenance window")
    assert _host_status(cloud, server.id) == "MAINTENANCE"
    conn.compute.enable_service(service, service.host, service.binary)
    assert _host_status(cloud, server.id) == "UP"

    # The agent stops reporting: once [compute] service_down_time passes, the host is UNKNOWN (5 s here:
    # a loaded CI machine may delay a 1 s heartbeat past 3 s).
    for item in reversed(running):
        item.stop()
    running.clear()
    fixtures.wait_until(lambda: _host_status(cloud, server.id) == "UNKNOWN", timeout=20,
                        what="host_status UNKNOWN after the agent stopped")
    assert _listed_status(cloud, server.id) == "UNKNOWN"
    assert _service(cloud, host).state == "down"

    conn.compute.update_service_forced_down(service, service.host, service.binary, True)
    assert _host_status(cloud, server.id) == "DOWN"
    code, plan = _plan(cloud, host, capsys)
    assert code == 0 and plan["instances"][0]["destination"] not in (None, host)

    for s in (server, mine):
        conn.compute.delete_server(s.id)
        conn.compute.wait_for_delete(s, wait=30)
    conn.compute.update_service_forced_down(service, service.host, service.binary, False)


def test_evacuate_plan_of_an_unknown_host(cloud: ComputeCloud, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _plan(cloud, "no-such-host", capsys)
    assert code == 1 and "no-such-host could not be found" in out["error"]


def _boot_on(conn: Any, image_id: str, flavor: Any, host: str) -> Any:
    return conn.compute.create_server(name=f"on-{host}", image_id=image_id, flavor_id=flavor.id, networks="none",
                                      availability_zone=f"nova:{host}")


def test_evacuate_plan_counts_its_own_moves_and_says_when_nothing_fits(
        cloud: ComputeCloud, image_id: str, lone_host: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Two servers and room for one on the only other enabled host: the first goes there, the second has
    nowhere (exit status 2). With that host disabled too, the scheduler's reason names it."""
    host, _ = lone_host
    conn = cloud.connection()
    resp = _get(cloud, "/os-hypervisors/detail", "2.87")  # RAM totals and use are shown up to 2.87
    free = {h["service"]["host"]: h["memory_mb"] - h["memory_mb_used"] for h in resp.json()["hypervisors"]}
    keep = "compute-2"
    others = [_service(cloud, h) for h in free if h not in (host, keep)]
    for svc in others:
        conn.compute.disable_service(svc, svc.host, svc.binary)
    flavors = [conn.compute.create_flavor(name=f"f{mb}-{os.getpid()}", ram=mb, vcpus=1, disk=1)
               for mb in (20480, free[keep] - 30720)]
    servers: list[Any] = []
    try:
        servers.append(_boot_on(conn, image_id, flavors[1], keep))  # leaves compute-2 30 GiB of RAM
        servers += [_boot_on(conn, image_id, flavors[0], host) for _ in range(2)]
        for s in servers:
            wait_for_status(conn, s.id, "ACTIVE")
        code, plan = _plan(cloud, host, capsys)
        assert code == 2, plan
        first, second = plan["instances"]
        assert first["candidates"] == second["candidates"] == [keep]  # each alone would fit
        assert first["destination"] == keep
        assert second["destination"] is None and "filled by earlier instances" in second["reason"], second

        svc = _service(cloud, keep)
        conn.compute.disable_service(svc, svc.host, svc.binary)
        others.append(svc)
        code, plan = _plan(cloud, host, capsys)
        assert code == 2
        assert all(m["destination"] is None and "compute service disabled" in m["reason"]
                   for m in plan["instances"]), plan
    finally:
        for svc in others:
            conn.compute.enable_service(svc, svc.host, svc.binary)
        for s in servers:
            conn.compute.delete_server(s.id)
        for s in servers:
            conn.compute.wait_for_delete(s, wait=30)
        for f in flavors:
            conn.compute.delete_flavor(f.id)
