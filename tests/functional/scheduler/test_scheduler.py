"""The scheduler over RPC against real placement: choosing, claiming, NUMA pinning, explaining."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from keystoneauth1 import adapter
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from nubis.common import context
from nubis.scheduler import rpcapi
from nubis.scheduler.exceptions import NoValidHost
from nubis.scheduler.request_spec import Flavor, RequestSpec, ServerGroup
from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.placement.conftest import placement_client

SMALL = Flavor("m1.small", vcpus=1, memory_mb=1024, root_gb=10)
PINNED = Flavor("pinned", vcpus=2, memory_mb=2048, root_gb=10,
                extra_specs={"hw:cpu_policy": "dedicated", "hw:mem_page_size": "2MB"})


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("scheduler")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {"identity": {"password_hash_rounds": "4"}, "database": {"connection": url}}
        with cloud_fixture.running_cloud(tmp, ["placement", "scheduler", "compute-api"], extra_config=extra) as c:
            yield c


def _scheduler(cloud: cloud_fixture.Cloud) -> rpcapi.SchedulerAPI:
    assert cloud.aio.runtime is not None
    return rpcapi.SchedulerAPI(cloud.aio.runtime.messaging, timeout=60)


def _numa_cells(pcpus_per_cell: int, cells: int) -> list[dict[str, Any]]:
    out = []
    for cell in range(cells):
        base = cell * (pcpus_per_cell + 2)
        out.append({"id": cell, "cpus": list(range(base + 2, base + 2 + pcpus_per_cell)),
                    "shared_cpus": [base, base + 1], "memory_mb": 8192, "pages": {"2048": 2048}})
    return out


def add_host(cloud: cloud_fixture.Cloud, name: str, az: str = "nova", pcpus_per_cell: int = 4, cells: int = 1,
             vcpus: int = 8, memory_mb: int = 16384, **report: Any) -> str:
    api = placement_client(cloud)
    rp = api.post("/resource_providers", json={"name": name}).json()
    inventory = {"VCPU": {"total": vcpus}, "MEMORY_MB": {"total": memory_mb}, "DISK_GB": {"total": 200}}
    if pcpus_per_cell:
        inventory["PCPU"] = {"total": pcpus_per_cell * cells}
    resp = api.put(f"/resource_providers/{rp['uuid']}/inventories",
                   json={"resource_provider_generation": rp["generation"], "inventories": inventory})
    assert resp.status_code == 200, resp.text
    _scheduler(cloud).update_host(context.admin_context(), {
        "host": name, "provider_uuid": rp["uuid"], "availability_zone": az,
        "numa_topology": _numa_cells(pcpus_per_cell, cells) if pcpus_per_cell else [], **report})
    return str(rp["uuid"])


@pytest.fixture
def hosts(cloud: cloud_fixture.Cloud) -> Iterator[list[str]]:
    """Two fresh hosts in a zone of their own (so tests do not see each other's hosts)."""
    zone = f"az-{uuid.uuid4().hex[:6]}"
    names = [f"{zone}-h{i}" for i in range(2)]
    for name in names:
        add_host(cloud, name, az=zone)
    yield names


def _spec(flavor: Flavor, zone: str | None, **kwargs: Any) -> RequestSpec:
    return RequestSpec(flavor=flavor, instance_uuids=(str(uuid.uuid4()),), project_id="p", user_id="u",
                       availability_zone=zone, **kwargs)


def _zone(hosts: list[str]) -> str:
    return hosts[0].rsplit("-", 1)[0]


def test_select_claims_in_placement_and_spreads(cloud: cloud_fixture.Cloud, hosts: list[str]) -> None:
    ctx = context.admin_context()
    first = _scheduler(cloud).select_destinations(ctx, _spec(SMALL, _zone(hosts)))[0]
    second = _scheduler(cloud).select_destinations(ctx, _spec(SMALL, _zone(hosts)))[0]
    assert {first["host"], second["host"]} == set(hosts)  # spread: the emptier host wins
    assert first["alternates"] and first["alternates"][0]["host"] != first["host"]
    allocs = placement_client(cloud).get(f"/allocations/{first['instance_uuid']}").json()["allocations"]
    assert allocs[first["provider_uuid"]]["resources"] == {"VCPU": 1, "MEMORY_MB": 1024, "DISK_GB": 10}
    _scheduler(cloud).release(ctx, first["instance_uuid"])
    assert placement_client(cloud).get(f"/allocations/{first['instance_uuid']}").json()["allocations"] == {}


def test_dedicated_flavor_gets_distinct_pinned_cpus_under_concurrency(cloud: cloud_fixture.Cloud) -> None:
    zone = f"az-{uuid.uuid4().hex[:6]}"
    add_host(cloud, f"{zone}-only", az=zone, pcpus_per_cell=4)  # room for two 2-vCPU pinned guests
    results: list[Any] = []
    barrier = threading.Barrier(4)

    def boot() -> None:
        barrier.wait()
        try:
            results.append(_scheduler(cloud).select_destinations(context.admin_context(), _spec(PINNED, zone))[0])
        except NoValidHost as exc:
            results.append(exc)

    threads = [threading.Thread(target=boot) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    placed = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, NoValidHost)]
    assert len(placed) == 2 and len(refused) == 2, results
    cpus = [cpu for r in placed for cell in r["numa_fit"]["cells"] for cpu in cell["pinning"].values()]
    assert len(cpus) == 4 and len(set(cpus)) == 4  # never the same CPU twice
    assert all(cell["page_size_kb"] == 2048 for r in placed for cell in r["numa_fit"]["cells"])
    assert "NUMA node 0" in str(refused[0]) or "PCPU" in str(refused[0])  # the reason is named


def test_no_valid_host_explains_per_reason(cloud: cloud_fixture.Cloud) -> None:
    zone = f"az-{uuid.uuid4().hex[:6]}"
    add_host(cloud, f"{zone}-small", az=zone, pcpus_per_cell=0)  # no PCPU inventory, no NUMA cells
    add_host(cloud, f"{zone}-down", az=zone, enabled=False)
    huge = Flavor("huge", vcpus=2, memory_mb=2048, root_gb=10, extra_specs={"hw:cpu_policy": "dedicated"})
    with pytest.raises(NoValidHost) as info:
        _scheduler(cloud).select_destinations(context.admin_context(), _spec(huge, zone))
    message = str(info.value)
    assert "not enough PCPU (need 2)" in message
    assert "compute service disabled" in message
    assert "availability zone mismatch" in message  # every other test's hosts


def _compute_admin(cloud: cloud_fixture.Cloud) -> adapter.Adapter:
    """The compute API as the cloud admin (the scheduler's explain route lives there)."""
    auth = v3.Password(auth_url=cloud.auth_url, username="admin", password=cloud.admin.password,
                       user_domain_id="default", project_name="admin", project_domain_id="default")
    return adapter.Adapter(ks_session.Session(auth=auth), service_type="compute", interface="public",
                           raise_exc=False)


def test_explain_endpoint_reports_filters_and_counts(cloud: cloud_fixture.Cloud, hosts: list[str]) -> None:
    api = _compute_admin(cloud)
    resp = api.post("/scheduler/explain", json={"flavor": {"vcpus": 1, "memory_mb": 512, "root_gb": 1},
                                                "availability_zone": _zone(hosts)})
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert set(report["hosts_passing"]) == set(hosts)
    stages = {entry["stage"]: entry for entry in report["removed"]}
    assert stages["AvailabilityZoneFilter"]["hosts"] == report["hosts_considered"] - len(hosts) - sum(
        e["hosts"] for name, e in stages.items() if name != "AvailabilityZoneFilter")
    assert "availability zone mismatch" in report["summary"]
    bad = api.post("/scheduler/explain", json={"flavor": {"vcpus": 0, "memory_mb": 512}})
    assert bad.status_code == 400
    assert "vcpus" in bad.json()["badRequest"]["message"]


def test_explain_is_for_admins_and_not_served_by_placement(cloud: cloud_fixture.Cloud) -> None:
    member = cloud.new_user(["member"])
    auth = v3.Password(auth_url=cloud.auth_url, username=member.username, password=member.password,
                       user_domain_id="default", project_name=member.project_name, project_domain_id="default")
    api = adapter.Adapter(ks_session.Session(auth=auth), service_type="compute", interface="public",
                          raise_exc=False)
    resp = api.post("/scheduler/explain", json={"flavor": {"vcpus": 1, "memory_mb": 1}})
    assert resp.status_code == 403, resp.text
    assert resp.json()["forbidden"]["code"] == 403
    gone = placement_client(cloud).post("/scheduler/explain", json={"flavor": {"vcpus": 1, "memory_mb": 1}})
    assert gone.status_code == 404


def test_anti_affinity_group_lands_on_different_hosts(cloud: cloud_fixture.Cloud, hosts: list[str]) -> None:
    spec = RequestSpec(flavor=SMALL, instance_uuids=(str(uuid.uuid4()), str(uuid.uuid4())), project_id="p",
                       user_id="u", availability_zone=_zone(hosts), server_group=ServerGroup("anti-affinity"))
    chosen = _scheduler(cloud).select_destinations(context.admin_context(), spec)
    assert len({c["host"] for c in chosen}) == 2
    three = RequestSpec(flavor=SMALL, instance_uuids=tuple(str(uuid.uuid4()) for _ in range(3)), project_id="p",
                        user_id="u", availability_zone=_zone(hosts), server_group=ServerGroup("anti-affinity"))
    with pytest.raises(NoValidHost):
        _scheduler(cloud).select_destinations(context.admin_context(), three)
    # The failed request gave back what it had claimed for its first two instances.
    for instance in three.instance_uuids:
        assert placement_client(cloud).get(f"/allocations/{instance}").json()["allocations"] == {}


def test_admin_can_force_a_host(cloud: cloud_fixture.Cloud, hosts: list[str]) -> None:
    for target in hosts:
        chosen = _scheduler(cloud).select_destinations(context.admin_context(),
                                                       _spec(SMALL, _zone(hosts), force_host=target))
        assert chosen[0]["host"] == target
