"""Servers through openstacksdk and the openstack CLI, on three fake compute hosts."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import requests

from tests import fixtures
from tests.functional.compute.conftest import ComputeCloud
from tests.functional.compute.conftest import boot as _boot
from tests.functional.compute.conftest import wait_for_status as _wait
from tests.functional.placement.conftest import placement_client


def _main_driver(cloud: ComputeCloud) -> list[Any]:
    """The fake driver of the all-in-one's own compute host (started by the cloud, not by the fixture)."""
    return [item.driver for item in cloud.aio.running if hasattr(item, "driver")]


def test_boot_show_and_delete(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    key = conn.compute.create_keypair(name=f"k-{uuid.uuid4().hex[:6]}")
    assert key.private_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    server = _wait(conn, _boot(cloud, image_id, flavor_id, key_name=key.name).id, "ACTIVE")
    assert server.power_state == 1 and server.vm_state == "active" and server.task_state is None
    assert server.compute_host in ("compute-2", "compute-3", cloud.aio.runtime.conf.host)  # type: ignore[union-attr]
    assert server.key_name == key.name and server.flavor["original_name"] == "m1.tiny"
    allocations = placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"]
    assert [a["resources"] for a in allocations.values()] == [{"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}]
    assert [a.action for a in conn.compute.server_actions(server.id)] == ["create"]

    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=30)
    assert placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"] == {}


def test_power_actions_and_invalid_transitions(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = _wait(conn, _boot(cloud, image_id, flavor_id).id, "ACTIVE")
    refused = requests.post(f"{cloud.url('compute-api')}/v2.1/servers/{server.id}/action", json={"os-start": None},
                            headers={"X-Auth-Token": conn.session.get_token()}, timeout=10)
    assert refused.status_code == 409
    assert refused.json()["conflictingRequest"]["message"] == (
        f"Cannot 'start' instance {server.id} while it is in vm_state active")
    for act, status in ((conn.compute.stop_server, "SHUTOFF"), (conn.compute.start_server, "ACTIVE"),
                        (conn.compute.pause_server, "PAUSED"), (conn.compute.unpause_server, "ACTIVE"),
                        (conn.compute.suspend_server, "SUSPENDED"), (conn.compute.resume_server, "ACTIVE")):
        act(server)
        _wait(conn, server.id, status)
    conn.compute.reboot_server(server, "HARD")
    _wait(conn, server.id, "ACTIVE")
    other = conn.image.create_image(name="other", disk_format="raw", container_format="bare",
                                    data=io.BytesIO(b"\1" * 4096))
    conn.compute.rebuild_server(server, image=other.id, name="rebuilt")
    rebuilt = _wait(conn, server.id, "ACTIVE")
    assert rebuilt.image.id == other.id and rebuilt.name == "rebuilt"
    spec = next(d.specs[server.id] for d in [*cloud.drivers.values(), *_main_driver(cloud)] if server.id in d.specs)
    assert spec.image_ref == other.id
    actions = [a.action for a in conn.compute.server_actions(server.id)]
    assert actions[0] == "rebuild" and "create" in actions and len(actions) == 9
    output = conn.compute.get_server_console_output(server)["output"]
    assert server.name in output and len(output.splitlines()) > 3
    last = conn.compute.get_server_console_output(server, length=3)["output"]
    assert last.splitlines() == output.splitlines()[-3:]
    conn.compute.delete_server(server.id)


def test_resize_confirm_and_revert(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    bigger = conn.compute.create_flavor(name=f"m1.bigger-{uuid.uuid4().hex[:4]}", ram=1024, vcpus=2, disk=2)
    server = _wait(conn, _boot(cloud, image_id, flavor_id).id, "ACTIVE")
    same = requests.post(f"{cloud.url('compute-api')}/v2.1/servers/{server.id}/action", timeout=10,
                         json={"resize": {"flavorRef": flavor_id}}, headers={"X-Auth-Token": conn.session.get_token()})
    assert same.status_code == 400 and "must change flavor" in same.text

    conn.compute.resize_server(server, bigger.id)
    resized = _wait(conn, server.id, "VERIFY_RESIZE")
    assert resized.flavor["vcpus"] == 2
    allocations = placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"]
    assert [a["resources"] for a in allocations.values()] == [{"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 2}]
    conn.compute.revert_server_resize(server)
    reverted = _wait(conn, server.id, "ACTIVE")
    assert reverted.flavor["vcpus"] == 1
    allocations = placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"]
    assert [a["resources"] for a in allocations.values()] == [{"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}]

    conn.compute.resize_server(server, bigger.id)
    _wait(conn, server.id, "VERIFY_RESIZE")
    conn.compute.confirm_server_resize(server)
    assert _wait(conn, server.id, "ACTIVE").flavor["original_name"] == bigger.name
    # Both resizes are in os-migrations (migration_type "resize"), as Nova lists them.
    listed = requests.get(f"{cloud.url('compute-api')}/v2.1/os-migrations", timeout=10,
                          params={"instance_uuid": server.id},
                          headers={"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.23"})
    assert sorted((m["migration_type"], m["status"]) for m in listed.json()["migrations"]) == [
        ("resize", "confirmed"), ("resize", "reverted")], listed.text
    conn.compute.delete_server(server.id)


def test_no_valid_host_explains_itself(cloud: ComputeCloud, image_id: str) -> None:
    conn = cloud.connection()
    huge = conn.compute.create_flavor(name=f"huge-{uuid.uuid4().hex[:4]}", ram=200_000, vcpus=1, disk=1)
    server = _wait(conn, _boot(cloud, image_id, huge.id).id, "ERROR")
    assert server.fault["code"] == 500
    assert "No valid host was found" in server.fault["message"]
    assert "MEMORY_MB" in server.fault["message"]  # the scheduler's explanation names what was missing
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=30)


def test_failed_spawn_faults_and_frees_the_claim(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    for driver in cloud.drivers.values():
        driver.fail_next("spawn", "disk image is corrupt")
    # Pin to one of the extra hosts so the injected failure is the one hit.
    server = conn.compute.create_server(name="doomed", image_id=image_id, flavor_id=flavor_id, networks="none",
                                        availability_zone="nova:compute-2")
    server = _wait(conn, server.id, "ERROR")
    assert "Build of instance" in server.fault["message"] and "disk image is corrupt" in server.fault["message"]
    assert placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"] == {}
    assert server.id not in cloud.drivers["compute-2"].list_guests()
    cloud.drivers["compute-3"].clear_failures()
    conn.compute.delete_server(server.id)


def test_failed_delete_rests_in_error_and_can_be_deleted_again(cloud: ComputeCloud, image_id: str,
                                                                flavor_id: str) -> None:
    """A delete that fails on its host (here the hypervisor refuses) is never left "deleting" for ever: the
    server rests in ERROR with a fault saying so, and a second delete removes it and what it held."""
    conn = cloud.connection()
    server = conn.compute.create_server(name="sticky", image_id=image_id, flavor_id=flavor_id, networks="none",
                                        availability_zone="nova:compute-2")
    _wait(conn, server.id, "ACTIVE")
    cloud.drivers["compute-2"].fail_next("destroy", "the hypervisor is busy")
    conn.compute.delete_server(server.id)
    server = _wait(conn, server.id, "ERROR")
    assert server.task_state is None
    assert "Delete of instance" in server.fault["message"] and "the hypervisor is busy" in server.fault["message"]
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=30)
    assert placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"] == {}
    assert server.id not in cloud.drivers["compute-2"].list_guests()


def test_services_and_hypervisors(cloud: ComputeCloud) -> None:
    conn = cloud.connection()
    computes = [s for s in conn.compute.services() if s.binary == "nova-compute"]
    assert {s.host for s in computes} >= {"compute-2", "compute-3"} and all(s.state == "up" for s in computes)
    hypervisors = list(conn.compute.hypervisors(details=True))
    assert len(hypervisors) == 3 and all(h.status == "enabled" for h in hypervisors)
    listed = cloud.openstack("compute", "service", "list", "--service", "nova-compute")
    assert len(listed) == 3


def test_bad_input_is_a_clean_400(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    token = cloud.connection().session.get_token()
    base = f"{cloud.url('compute-api')}/v2.1/servers"
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.90"}
    for body, words in (({"server": {"flavorRef": flavor_id, "imageRef": image_id, "networks": "none"}}, "name"),
                        ({"server": {"name": "x", "imageRef": image_id, "networks": "none"}}, "flavorRef"),
                        ({"server": {"name": "x", "flavorRef": flavor_id, "imageRef": image_id}}, "networks"),
                        ({"server": {"name": "x", "flavorRef": flavor_id, "imageRef": str(uuid.uuid4()),
                                     "networks": "none"}}, "could not be found"),
                        ({"server": {"name": "x", "flavorRef": "nope", "imageRef": image_id, "networks": "none"}},
                         "Flavor nope")):
        resp = requests.post(base, json=body, headers=headers, timeout=10)
        assert resp.status_code in (400, 404), resp.text
        fault = next(iter(resp.json().values()))
        assert words in fault["message"], (body, fault)


def test_anti_affinity_spreads_and_a_fourth_member_is_refused(cloud: ComputeCloud, image_id: str,
                                                              flavor_id: str) -> None:
    conn = cloud.connection()
    group = conn.compute.create_server_group(name="spread", policy="anti-affinity")
    hosts = set()
    for _ in range(3):
        server = conn.compute.create_server(name="member", image_id=image_id, flavor_id=flavor_id, networks="none",
                                            scheduler_hints={"group": group.id})
        hosts.add(_wait(conn, server.id, "ACTIVE").compute_host)
    assert len(hosts) == 3  # one per host
    fourth = conn.compute.create_server(name="member", image_id=image_id, flavor_id=flavor_id, networks="none",
                                        scheduler_hints={"group": group.id})
    fourth = _wait(conn, fourth.id, "ERROR")
    assert "anti-affinity" in fourth.fault["message"], fourth.fault
    assert len(conn.compute.get_server_group(group.id).member_ids) == 4
    for server in conn.compute.servers(name="member"):
        conn.compute.delete_server(server.id)


def test_quota_holds_under_concurrent_boots(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    """Twelve boots at once in a project allowed ten instances: exactly ten get in."""
    creds = cloud.new_user(roles=("member", "reader"), prefix="quota")
    token = cloud.connection(creds).session.get_token()
    body = {"server": {"name": "q", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none"}}
    codes: list[int] = []

    def boot() -> None:
        resp = requests.post(f"{cloud.url('compute-api')}/v2.1/servers", json=body, timeout=60,
                             headers={"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.90"})
        codes.append(resp.status_code)

    import threading

    threads = [threading.Thread(target=boot) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [202] * 10 + [403] * 2, codes
    conn = cloud.connection(creds)
    servers = list(conn.compute.servers())
    assert len(servers) == 10
    for server in servers:
        conn.compute.delete_server(server.id)


def test_service_goes_down_when_its_agent_stops(cloud: ComputeCloud) -> None:
    conn = cloud.connection()
    service = next(s for s in conn.compute.services() if s.host == "compute-3")
    assert service.state == "up"
    conn.compute.update_service_forced_down(service, service.host, service.binary, True)
    assert next(s for s in conn.compute.services() if s.host == "compute-3").state == "down"
    conn.compute.update_service_forced_down(service, service.host, service.binary, False)
    assert next(s for s in conn.compute.services() if s.host == "compute-3").state == "up"

    agent = next(item for item in cloud.stoppables if getattr(item, "host", None) == "compute-3")
    agent.stop()  # no more heartbeats from compute-3
    fixtures.wait_until(lambda: next(s for s in conn.compute.services() if s.host == "compute-3").state == "down",
                        timeout=20, interval=0.5, what="compute-3 to show down after its agent stopped")
    hypervisor = next(h for h in conn.compute.hypervisors(details=True) if h.name == "compute-3")
    assert hypervisor.state == "down"


def test_metadata_tags_and_reset_state(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = _wait(conn, _boot(cloud, image_id, flavor_id, metadata={"role": "web"}).id, "ACTIVE")
    conn.compute.set_server_metadata(server, tier="front")
    assert conn.compute.get_server_metadata(server).metadata == {"role": "web", "tier": "front"}
    conn.compute.delete_server_metadata(server, ["role"])
    assert conn.compute.get_server_metadata(server).metadata == {"tier": "front"}
    conn.compute.add_tag_to_server(server, "blue")
    assert "blue" in conn.compute.get_server(server.id).tags
    assert [s.id for s in conn.compute.servers(tags="blue")] == [server.id]
    conn.compute.reset_server_state(server, "error")
    assert conn.compute.get_server(server.id).status == "ERROR"
    conn.compute.reset_server_state(server, "active")
    assert conn.compute.get_server(server.id).status == "ACTIVE"
    conn.compute.delete_server(server.id)


def test_quota_sets_and_usage_report(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    creds = cloud.new_user(roles=("member", "reader"), prefix="usage")
    cloud.openstack("quota", "set", "--instances", "1", creds.project_id, json_output=False)
    shown = cloud.openstack("quota", "show", creds.project_id)
    assert any(row.get("Resource") == "instances" and row.get("Limit") == 1 for row in shown), shown
    conn = cloud.connection(creds)
    first = _wait(conn, conn.compute.create_server(name="billed", image_id=image_id, flavor_id=flavor_id,
                                                   networks="none").id, "ACTIVE")
    over = requests.post(f"{cloud.url('compute-api')}/v2.1/servers", timeout=10, headers={
        "X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.90"}, json={
        "server": {"name": "x", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none"}})
    assert over.status_code == 403 and "instances" in over.json()["forbidden"]["message"]
    # Lowering a limit below what is in use is refused unless forced.
    admin = cloud.connection().session.get_token()
    low = requests.put(f"{cloud.url('compute-api')}/v2.1/os-quota-sets/{creds.project_id}", timeout=10,
                       headers={"X-Auth-Token": admin}, json={"quota_set": {"instances": 0}})
    assert low.status_code == 400
    time.sleep(0.2)
    conn.compute.delete_server(first.id)
    conn.compute.wait_for_delete(first, wait=30)
    usage = cloud.openstack("usage", "show", "--project", creds.project_id)
    assert len(usage["Servers"]) == 1 and float(usage["CPU Hours"]) > 0, usage


def test_create_image_snapshots_into_the_image_service(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    creds = cloud.new_user(roles=("member", "reader"), prefix="snap")
    conn = cloud.connection(creds)
    server = _wait(conn, conn.compute.create_server(name="snapme", image_id=image_id, flavor_id=flavor_id,
                                                    networks="none").id, "ACTIVE")
    image = conn.compute.create_server_image(server, name="snap-1", metadata={"purpose": "backup"}, wait=True,
                                             timeout=30)
    assert image.status == "active" and image.owner == creds.project_id and image.visibility == "private"
    raw = conn.image.get(f"/images/{image.id}").json()
    assert raw["image_type"] == "snapshot" and raw["instance_uuid"] == server.id
    assert raw["purpose"] == "backup" and raw["base_image_ref"] == image_id and raw["min_disk"] == 1
    data = b"".join(conn.image.download_image(image, stream=True).iter_content(65536))
    assert data.startswith(f"fake disk of {server.id} from image {image_id}".encode()) and len(data) == 16 * 4096
    assert _wait(conn, server.id, "ACTIVE").task_state is None
    # The snapshot boots like any image.
    again = _wait(conn, conn.compute.create_server(name="from-snap", image_id=image.id, flavor_id=flavor_id,
                                                   networks="none").id, "ACTIVE")
    assert again.image["id"] == image.id

    # A failed snapshot leaves no image behind and says why.
    drivers = {**cloud.drivers, **{d.host.hypervisor_hostname: d for d in _main_driver(cloud)}}
    drivers[cloud.connection().compute.get_server(server.id).compute_host].fail_next("snapshot", "disk unreadable")
    resp = requests.post(f"{cloud.url('compute-api')}/v2.1/servers/{server.id}/action",
                         json={"createImage": {"name": "snap-2"}}, timeout=10,
                         headers={"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.90"})
    assert resp.status_code == 202
    failed_id = resp.json()["image_id"]
    fixtures.wait_until(lambda: conn.image.find_image(failed_id) is None, timeout=30,
                        what="the failed snapshot's image to be removed")
    server = _wait(conn, server.id, "ACTIVE")
    assert server.task_state is None and server.fault is None  # the server is fine; the snapshot action failed
    snaps = [a for a in conn.compute.server_actions(server.id) if a.action == "createImage"]
    assert [a.message for a in snaps] in (["Error", None], [None, "Error"])
    nameless = requests.post(f"{cloud.url('compute-api')}/v2.1/servers/{server.id}/action",
                             json={"createImage": {}}, timeout=10, headers={"X-Auth-Token": conn.session.get_token()})
    assert nameless.status_code == 400 and "name" in nameless.json()["badRequest"]["message"]
    for s in (server, again):
        conn.compute.delete_server(s.id)
    conn.image.delete_image(image)


def test_power_state_sync_and_external_events(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = _wait(conn, _boot(cloud, image_id, flavor_id).id, "ACTIVE")
    drivers = {**cloud.drivers, **{d.host.hypervisor_hostname: d for d in _main_driver(cloud)}}
    driver = drivers[server.compute_host]
    driver.power_off(server.id)  # the guest shuts down by itself
    server = _wait(conn, server.id, "SHUTOFF", timeout=15)
    assert server.power_state == 4

    headers = {"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.90"}
    conn.compute.start_server(server)
    _wait(conn, server.id, "ACTIVE")
    url = f"{cloud.url('compute-api')}/v2.1/os-server-external-events"
    # Another service reports the guest powered off (as a bare-metal service would): the server follows.
    events = [{"name": "power-update", "server_uuid": server.id, "tag": "POWER_OFF"},
              {"name": "network-vif-plugged", "server_uuid": str(uuid.uuid4()), "tag": "port-1"}]
    resp = requests.post(url, json={"events": events}, headers=headers, timeout=10)
    assert resp.status_code == 207 and [e["code"] for e in resp.json()["events"]] == [200, 404]
    assert _wait(conn, server.id, "SHUTOFF").power_state == 4
    bad = requests.post(url, json={"events": [{"name": "reboot-please", "server_uuid": server.id}]},
                        headers=headers, timeout=10)
    assert bad.status_code == 400 and "reboot-please" in bad.json()["badRequest"]["message"]
    untagged = requests.post(url, json={"events": [{"name": "network-changed", "server_uuid": server.id}]},
                             headers=headers, timeout=10).json()["events"][0]
    assert untagged == {"name": "network-changed", "server_uuid": server.id, "status": "completed", "code": 200}
    member = cloud.connection(cloud.new_user(prefix="events"))
    denied = requests.post(url, json={"events": events}, timeout=10,
                           headers={"X-Auth-Token": member.session.get_token()})
    assert denied.status_code == 403
    assert list(conn.compute.server_interfaces(server)) == []

    driver.destroy(server.id)  # the guest vanishes from its host altogether
    gone = _wait(conn, server.id, "ERROR", timeout=15)
    assert "disappeared from host" in gone.fault["message"], gone.fault
    conn.compute.delete_server(server.id)


def test_shelve_frees_the_host_and_unshelve_boots_from_the_saved_disk(cloud: ComputeCloud, image_id: str,
                                                                      flavor_id: str) -> None:
    conn = cloud.connection()
    server = _wait(conn, _boot(cloud, image_id, flavor_id, name="shelf").id, "ACTIVE")
    drivers = {**cloud.drivers, **{d.host.hypervisor_hostname: d for d in _main_driver(cloud)}}
    first_host = server.compute_host
    conn.compute.shelve_server(server)
    server = _wait(conn, server.id, "SHELVED_OFFLOADED")
    assert server.compute_host is None and server.id not in drivers[first_host].list_guests()
    assert placement_client(cloud).get(f"/allocations/{server.id}").json()["allocations"] == {}
    saved = conn.image.find_image("shelf-shelved")
    assert saved is not None and saved.status == "active"
    stopped = requests.post(f"{cloud.url('compute-api')}/v2.1/servers/{server.id}/action", json={"os-stop": None},
                            headers={"X-Auth-Token": conn.session.get_token()}, timeout=10)
    assert stopped.status_code == 409

    conn.compute.unshelve_server(server)
    server = _wait(conn, server.id, "ACTIVE")
    assert server.compute_host and server.image["id"] == image_id  # still shows the image it was booted from
    assert server.id in drivers[server.compute_host].list_guests()
    assert drivers[server.compute_host].specs[server.id].image_ref == saved.id  # but booted from its saved disk
    assert [a["resources"] for a in placement_client(cloud).get(f"/allocations/{server.id}").json()[
        "allocations"].values()] == [{"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}]
    fixtures.wait_until(lambda: conn.image.find_image(saved.id) is None, timeout=10,
                        what="the shelved image to go after the unshelve")
    assert [a.action for a in conn.compute.server_actions(server.id)][:2] in (["unshelve", "shelve"],
                                                                               ["shelve", "unshelve"])
    conn.compute.delete_server(server.id)


def test_versioned_notifications_follow_a_boot(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    import threading

    import oslo_messaging

    events: list[tuple[str, str, dict[str, Any]]] = []
    done = threading.Event()
    wanted: list[str] = []

    class Listener:
        def info(self, ctxt, publisher_id, event_type, payload, metadata):  # type: ignore[no-untyped-def]
            events.append((publisher_id, event_type, payload))
            if event_type == "instance.delete.end" and payload["nova_object.data"]["uuid"] in wanted:
                done.set()

    messaging = cloud.aio.runtime.messaging  # type: ignore[union-attr]
    listener = oslo_messaging.get_notification_listener(
        messaging.notification_transport, [oslo_messaging.Target(topic="versioned_notifications")], [Listener()],
        executor="threading", pool="compute-test")
    listener.start()
    try:
        conn = cloud.connection()
        server = _wait(conn, _boot(cloud, image_id, flavor_id).id, "ACTIVE")
        wanted.append(server.id)
        conn.compute.delete_server(server.id)
        assert done.wait(30), [e[1] for e in events]
    finally:
        listener.stop()
        listener.wait()
    ours = [(p, t, body) for p, t, body in events if body["nova_object.data"]["uuid"] == server.id]
    assert [t for _, t, _ in ours] == ["instance.create.start", "instance.create.end", "instance.delete.end"]
    publisher, _, end = ours[1]
    assert publisher == f"compute.{server.compute_host}"
    assert end["nova_object.name"] == "InstanceActionPayload" and end["nova_object.version"] == "1.0"
    assert end["nova_object.data"] == {"uuid": server.id, "host": server.compute_host, "state": "active",
                                       "power_state": 1}


def test_create_backup_keeps_the_newest_of_its_rotation(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    creds = cloud.new_user(roles=("member", "reader"), prefix="backup")
    conn = cloud.connection(creds)
    server = _wait(conn, conn.compute.create_server(name="backed", image_id=image_id, flavor_id=flavor_id,
                                                    networks="none").id, "ACTIVE")
    url = f"{cloud.url('compute-api')}/v2.1/servers/{server.id}/action"
    headers = {"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.90"}
    made = []
    for n in range(3):
        resp = requests.post(url, json={"createBackup": {"name": f"nightly-{n}", "backup_type": "daily",
                                                         "rotation": 2}}, headers=headers, timeout=30)
        assert resp.status_code == 202, resp.text
        made.append(resp.json()["image_id"])
        # The status stays ACTIVE meanwhile: the backup is done when the task state clears.
        fixtures.wait_until(lambda: conn.compute.get_server(server.id).task_state is None, timeout=30,
                            what="the backup to finish")
    kept = sorted(i.id for i in conn.image.images() if i.name.startswith("nightly-"))
    assert kept == sorted(made[1:])  # the oldest of three went: rotation 2
    assert conn.image.get(f"/images/{made[2]}").json()["image_type"] == "backup"
    bad = requests.post(url, json={"createBackup": {"name": "x", "backup_type": "daily", "rotation": "lots"}},
                        headers=headers, timeout=10)
    assert bad.status_code == 400 and "rotation" in bad.json()["badRequest"]["message"]
    # Any string is a backup type, "" too (Nova's schema; the openstack CLI sends it when --type is not given).
    untyped = requests.post(url, json={"createBackup": {"name": "untyped", "backup_type": "", "rotation": 1}},
                            headers=headers, timeout=30)
    assert untyped.status_code == 202, untyped.text
    made.append(untyped.json()["image_id"])
    fixtures.wait_until(lambda: conn.compute.get_server(server.id).task_state is None, timeout=30,
                        what="the untyped backup to finish")
    assert conn.image.get(f"/images/{made[-1]}").json()["backup_type"] == ""
    # The daily ones are not of its type: its rotation kept them.
    assert sorted(i.id for i in conn.image.images() if i.name.startswith("nightly-")) == sorted(made[1:3])
    # Rotation 0 is taken, as Nova takes it: the backup is made, then goes as the oldest beyond none kept.
    none_kept = requests.post(url, json={"createBackup": {"name": "weekly", "backup_type": "weekly", "rotation": 0}},
                              headers=headers, timeout=30)
    assert none_kept.status_code == 202, none_kept.text
    fixtures.wait_until(lambda: conn.compute.get_server(server.id).task_state is None, timeout=30,
                        what="the rotation-0 backup to finish")
    assert not [i for i in conn.image.images() if i.name == "weekly"]
    negative = requests.post(url, json={"createBackup": {"name": "x", "backup_type": "daily", "rotation": -1}},
                             headers=headers, timeout=10)
    assert negative.status_code == 400 and "rotation" in negative.json()["badRequest"]["message"]
    for image in made[1:]:
        conn.image.delete_image(image)
    conn.compute.delete_server(server.id)
