"""Hosts as admins manage them: aggregates and zones, disabled services, and moving servers between hosts."""

from __future__ import annotations

from typing import Any

import requests

from tests import fixtures
from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status
from tests.functional.placement.conftest import placement_client


def _post(cloud: ComputeCloud, path: str, body: Any, version: str = "2.90") -> requests.Response:
    return requests.post(f"{cloud.url('compute-api')}/v2.1{path}", json=body, timeout=30,
                         headers={"X-Auth-Token": cloud.connection().session.get_token(),
                                  "OpenStack-API-Version": f"compute {version}"})


def _migrations(cloud: ComputeCloud, server_id: str) -> list[dict[str, Any]]:
    resp = requests.get(f"{cloud.url('compute-api')}/v2.1/os-migrations", params={"instance_uuid": server_id},
                        timeout=10, headers={"X-Auth-Token": cloud.connection().session.get_token(),
                                             "OpenStack-API-Version": "compute 2.90"})
    assert resp.status_code == 200, resp.text
    return resp.json()["migrations"]  # type: ignore[no-any-return]


def _held_on(cloud: ComputeCloud, consumer: str) -> set[str]:
    """Names of the hosts whose providers hold an allocation of ``consumer``."""
    http = placement_client(cloud)
    names = {rp["uuid"]: rp["name"] for rp in http.get("/resource_providers").json()["resource_providers"]}
    return {names[rp] for rp in http.get(f"/allocations/{consumer}").json()["allocations"]}


def test_aggregate_zone_places_servers_and_guards_its_hosts(cloud: ComputeCloud, image_id: str,
                                                            flavor_id: str) -> None:
    conn = cloud.connection()
    agg = conn.compute.create_aggregate(name="rack-a", availability_zone="zone-a")
    assert agg.availability_zone == "zone-a" and agg.hosts in (None, [])
    conn.compute.add_host_to_aggregate(agg, "compute-2")
    conn.compute.set_aggregate_metadata(agg, {"ssd": "true"})
    shown = cloud.openstack("aggregate", "show", "rack-a")
    assert shown["hosts"] == ["compute-2"] and shown["properties"] == {"ssd": "true"}

    zones = {z.name: z for z in conn.compute.availability_zones(details=True)}
    assert "compute-2" in zones["zone-a"].hosts and "compute-2" not in zones["nova"].hosts
    assert sorted(z.name for z in conn.compute.availability_zones()) == ["nova", "zone-a"]
    # The detail also shows Nova's internal zone: the conductor, which hosts no servers (nor may a boot ask for it).
    assert [list(services) for services in zones["internal"].hosts.values()] == [["nova-conductor"]]
    assert next(s for s in conn.compute.services() if s.host == "compute-2").availability_zone == "zone-a"

    servers = [wait_for_status(conn, boot(cloud, image_id, flavor_id, availability_zone="zone-a").id, "ACTIVE")
               for _ in range(2)]
    assert {(s.compute_host, s.availability_zone) for s in servers} == {("compute-2", "zone-a")}
    elsewhere = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    assert elsewhere.compute_host != "compute-2" and elsewhere.availability_zone == "nova"

    for zone in ("zone-z", "internal"):
        unknown = _post(cloud, "/servers", {"server": {"name": "x", "imageRef": image_id, "flavorRef": flavor_id,
                                                       "networks": "none", "availability_zone": zone}})
        assert unknown.status_code == 400 and zone in unknown.json()["badRequest"]["message"]
    # A host runs in one zone, and one running instances keeps its zone.
    other = conn.compute.create_aggregate(name="rack-b", availability_zone="zone-b")
    clash = _post(cloud, f"/os-aggregates/{other.id}/action", {"add_host": {"host": "compute-2"}})
    assert clash.status_code == 400 and "zone-a" in clash.json()["badRequest"]["message"]
    leave = _post(cloud, f"/os-aggregates/{agg.id}/action", {"remove_host": {"host": "compute-2"}})
    assert leave.status_code == 400 and "runs instances" in leave.json()["badRequest"]["message"]
    twice = _post(cloud, f"/os-aggregates/{agg.id}/action", {"add_host": {"host": "compute-2"}})
    assert twice.status_code == 409
    nobody = _post(cloud, f"/os-aggregates/{agg.id}/action", {"add_host": {"host": "no-such-host"}})
    assert nobody.status_code == 404
    busy = requests.delete(f"{cloud.url('compute-api')}/v2.1/os-aggregates/{agg.id}", timeout=10,
                           headers={"X-Auth-Token": conn.session.get_token()})
    assert busy.status_code == 400 and "remove them first" in busy.json()["badRequest"]["message"]

    # A disabled service takes no new servers, and the fault says so.
    service = next(s for s in conn.compute.services() if s.host == "compute-2")
    conn.compute.disable_service(service, service.host, service.binary, disabled_reason="maintenance")
    refused = wait_for_status(conn, boot(cloud, image_id, flavor_id, availability_zone="zone-a").id, "ERROR")
    assert "compute service disabled" in refused.fault["message"], refused.fault
    conn.compute.enable_service(service, service.host, service.binary)
    accepted = wait_for_status(conn, boot(cloud, image_id, flavor_id, availability_zone="zone-a").id, "ACTIVE")
    assert accepted.compute_host == "compute-2"

    for server in [*servers, elsewhere, refused, accepted]:
        conn.compute.delete_server(server.id)
    for server in [*servers, elsewhere, refused, accepted]:
        conn.compute.wait_for_delete(server, wait=30)
    conn.compute.remove_host_from_aggregate(agg, "compute-2")
    conn.compute.delete_aggregate(agg)
    conn.compute.delete_aggregate(other)
    assert [z.name for z in conn.compute.availability_zones()] == ["nova"]


def test_hypervisor_uptime(cloud: ComputeCloud) -> None:
    conn = cloud.connection()
    hypervisor = next(h for h in conn.compute.hypervisors(details=True) if h.name == "compute-2")
    assert " up " in hypervisor.uptime and "days" in hypervisor.uptime
    old = requests.get(f"{cloud.url('compute-api')}/v2.1/os-hypervisors/{hypervisor.id}/uptime", timeout=10,
                       headers={"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.53"})
    assert old.status_code == 200 and " up " in old.json()["hypervisor"]["uptime"]


def test_cold_migration_confirm_and_revert(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    source = server.compute_host
    conn.compute.migrate_server(server)
    server = wait_for_status(conn, server.id, "VERIFY_RESIZE")
    dest = server.compute_host
    assert dest != source
    migration = next(m for m in conn.compute.migrations() if m.server_id == server.id)  # through the SDK
    assert (migration.source_compute, migration.dest_compute, migration.status) == (source, dest, "finished")
    parked = _migrations(cloud, server.id)[0]["uuid"]
    assert _held_on(cloud, server.id) == {dest} and _held_on(cloud, parked) == {source}
    conn.compute.revert_server_resize(server)
    server = wait_for_status(conn, server.id, "ACTIVE")
    assert server.compute_host == source and _held_on(cloud, server.id) == {source}
    assert _held_on(cloud, parked) == set()

    target = next(h for h in ("compute-2", "compute-3", cloud.aio.runtime.conf.host)  # type: ignore[union-attr]
                  if h != source)
    conn.compute.migrate_server(server, host=target)
    server = wait_for_status(conn, server.id, "VERIFY_RESIZE")
    assert server.compute_host == target
    conn.compute.confirm_server_resize(server)
    server = wait_for_status(conn, server.id, "ACTIVE")
    assert server.compute_host == target and _held_on(cloud, server.id) == {target}
    drivers = {**cloud.drivers}
    if source in drivers:
        assert server.id not in drivers[source].list_guests()
    assert [a.action for a in conn.compute.server_actions(server.id)].count("migrate") == 2

    same = _post(cloud, f"/servers/{server.id}/action", {"migrate": {"host": target}})
    assert same.status_code == 400 and "own host" in same.json()["badRequest"]["message"]
    conn.compute.delete_server(server.id)


def test_live_migration_and_no_valid_host(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    source = server.compute_host
    conn.compute.live_migrate_server(server, host=None, block_migration="auto")
    server = fixtures.wait_until(lambda: (s := conn.compute.get_server(server.id)).compute_host != source
                                 and not s.task_state and s, timeout=30, what="the live migration to finish")
    assert server.status == "ACTIVE" and _held_on(cloud, server.id) == {server.compute_host}
    migration = _migrations(cloud, server.id)[0]
    assert (migration["status"], migration["migration_type"]) == ("completed", "live-migration")
    assert _held_on(cloud, migration["uuid"]) == set()

    refused = _post(cloud, f"/servers/{server.id}/action",
                    {"os-migrateLive": {"host": "nowhere", "block_migration": "auto"}})
    assert refused.status_code == 400 and "nowhere" in refused.text
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=30)

    # Every host full: the move is refused with the scheduler's reasons, and nothing changes.
    big = conn.compute.create_flavor(name="m1.most-of-a-host", ram=40000, vcpus=1, disk=1)
    wide = [wait_for_status(conn, boot(cloud, image_id, big.id).id, "ACTIVE") for _ in range(3)]
    assert len({s.compute_host for s in wide}) == 3
    refused = _post(cloud, f"/servers/{wide[0].id}/action", {"migrate": None})
    assert refused.status_code == 400, refused.text
    assert "No valid host" in refused.text and "MEMORY_MB" in refused.text
    after = conn.compute.get_server(wide[0].id)
    assert (after.status, after.compute_host) == ("ACTIVE", wide[0].compute_host)
    assert _held_on(cloud, wide[0].id) == {wide[0].compute_host}
    assert _migrations(cloud, wide[0].id)[0]["status"] == "error"
    for s in wide:
        conn.compute.delete_server(s.id)
    for s in wide:
        conn.compute.wait_for_delete(s, wait=30)
    conn.compute.delete_flavor(big)


def test_evacuate_from_a_host_that_went_down(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id, availability_zone="nova:compute-3").id, "ACTIVE")
    refused = _post(cloud, f"/servers/{server.id}/action", {"evacuate": {}})
    assert refused.status_code == 400 and "still in use" in refused.json()["badRequest"]["message"]

    agent = next(item for item in cloud.stoppables if getattr(item, "host", None) == "compute-3")
    agent.stop()
    service = next(s for s in conn.compute.services() if s.host == "compute-3")
    conn.compute.update_service_forced_down(service, service.host, service.binary, True)
    # Before 2.14 the response carries the (generated) admin password.
    evacuated = _post(cloud, f"/servers/{server.id}/action", {"evacuate": {"onSharedStorage": False}}, "2.13")
    assert evacuated.status_code == 200 and len(evacuated.json()["adminPass"]) == 12
    server = wait_for_status(conn, server.id, "ACTIVE")
    assert server.compute_host != "compute-3" and server.task_state is None
    assert _held_on(cloud, server.id) == {server.compute_host}
    evacuation = _migrations(cloud, server.id)[0]
    assert (evacuation["migration_type"], evacuation["status"]) == ("evacuation", "done")
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=30)
