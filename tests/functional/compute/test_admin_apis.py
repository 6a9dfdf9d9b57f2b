"""Nova's older admin APIs: os-hosts (to 2.42), hypervisor statistics (to 2.87), search and servers (to 2.52),
the instance usage audit log, and the extension list."""

from __future__ import annotations

from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status
from tests.functional.compute.test_api_bounds import _admin, _bad_request


def test_hypervisor_statistics_search_and_servers(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    api = _admin(cloud, "2.52")
    server = wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id,
                                                      availability_zone="nova:compute-2").id, "ACTIVE")
    detail = api.call("GET", "/os-hypervisors/detail").json()["hypervisors"]
    stats = api.call("GET", "/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert stats["count"] == len(detail) == 3
    for key in ("vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "local_gb", "free_ram_mb", "running_vms",
                "current_workload", "free_disk_gb", "local_gb_used", "disk_available_least"):
        assert stats[key] == sum(h[key] for h in detail), key
    assert stats["running_vms"] >= 1

    found = api.call("GET", "/os-hypervisors/compute-/search").json()["hypervisors"]
    assert sorted(h["hypervisor_hostname"] for h in found) == ["compute-2", "compute-3"]
    assert set(found[0]) == {"id", "hypervisor_hostname", "state", "status"} and isinstance(found[0]["id"], int)
    assert api.call("GET", "/os-hypervisors/no-such-host/search").status_code == 404
    with_servers = {h["hypervisor_hostname"]: h for h in
                    api.call("GET", "/os-hypervisors/compute-2/servers").json()["hypervisors"]}
    assert {"uuid": server.id, "name": server.name} in with_servers["compute-2"]["servers"]

    later = _admin(cloud, "2.53")
    assert later.call("GET", "/os-hypervisors/compute-2/search").status_code == 404
    assert _admin(cloud, "2.88").call("GET", "/os-hypervisors/statistics").status_code == 404
    cloud.connection().compute.delete_server(server.id)


def test_os_hosts(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    api = _admin(cloud, "2.42")
    server = wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id,
                                                      availability_zone="nova:compute-3").id, "ACTIVE")
    hosts = api.call("GET", "/os-hosts").json()["hosts"]
    assert {"host_name": "compute-3", "service": "compute", "zone": "nova"} in hosts
    # One entry per service: the conductor's host too, in Nova's internal zone.
    assert [h["service"] for h in hosts if h["zone"] == "internal"] == ["conductor"]
    assert api.call("GET", "/os-hosts", zone="no-such-zone").json() == {"hosts": []}
    assert api.call("GET", "/os-hosts", zone="nova").json()["hosts"] == [h for h in hosts if h["zone"] == "nova"]

    rows = [r["resource"] for r in api.call("GET", "/os-hosts/compute-3").json()["host"]]
    assert [r["project"] for r in rows[:3]] == ["(total)", "(used_now)", "(used_max)"]
    assert rows[0]["cpu"] >= 1 and rows[1]["cpu"] >= 1 and rows[1]["memory_mb"] >= 512
    assert server.project_id in [r["project"] for r in rows[3:]]
    assert api.call("GET", "/os-hosts/no-such-host").status_code == 404

    disabled = api.call("PUT", "/os-hosts/compute-3", {"status": "disable"})
    assert disabled.json() == {"host": "compute-3", "status": "disabled"}
    assert next(s for s in cloud.connection().compute.services() if s.host == "compute-3").status == "disabled"
    assert api.call("PUT", "/os-hosts/compute-3", {"status": "enable"}).json()["status"] == "enabled"
    _bad_request(api.call("PUT", "/os-hosts/compute-3", {"status": "sideways"}), "status")
    assert api.call("PUT", "/os-hosts/compute-3", {"maintenance_mode": "enable"}).status_code == 501
    assert api.call("GET", "/os-hosts/compute-3/reboot").status_code == 501
    assert _admin(cloud, "2.43").call("GET", "/os-hosts").status_code == 404
    cloud.connection().compute.delete_server(server.id)


def test_instance_usage_audit_log_and_extensions(cloud: ComputeCloud) -> None:
    api = _admin(cloud, "2.1")
    log = api.call("GET", "/os-instance_usage_audit_log").json()["instance_usage_audit_logs"]
    assert log["num_hosts"] == log["num_hosts_not_run"] == len(log["hosts_not_run"]) >= 3
    assert log["overall_status"] == f"0 of {log['num_hosts']} hosts done. 0 errors."
    before = api.call("GET", "/os-instance_usage_audit_log/2026-03-15 10:00:00.5").json()["instance_usage_audit_log"]
    assert (before["period_beginning"], before["period_ending"]) == ("2026-02-01 00:00:00", "2026-03-01 00:00:00")
    _bad_request(api.call("GET", "/os-instance_usage_audit_log/not-a-time"), "before_timestamp")

    member = cloud.connection(cloud.new_user())
    extensions = member.compute.get("/extensions").json()["extensions"]
    assert {"os-keypairs", "os-hypervisors", "os-hosts"} <= {e["alias"] for e in extensions}
    assert all(set(e) == {"name", "alias", "description", "links", "namespace", "updated"} for e in extensions)
    assert api.call("GET", "/extensions/os-keypairs").json()["extension"]["name"] == "Keypairs"
    assert api.call("GET", "/extensions/os-nothing").status_code == 404
    denied = member.compute.get("/os-instance_usage_audit_log")
    assert denied.status_code == 403
