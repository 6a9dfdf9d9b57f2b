"""Response bodies per microversion, checked against the fields the Compute API reference (and Tempest's response
schemas, which forbid extra fields) name for each microversion."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.functional.cloud import Credentials
from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status


def _call(cloud: ComputeCloud, method: str, path: str, version: str, body: Any = None,
          creds: Credentials | None = None) -> requests.Response:
    resp = requests.request(method, f"{cloud.url('compute-api')}/v2.1{path}", json=body, timeout=30,
                            headers={"X-Auth-Token": cloud.connection(creds).session.get_token(),
                                     "OpenStack-API-Version": f"compute {version}"})
    assert resp.status_code < 300, resp.text
    return resp


def _get(cloud: ComputeCloud, path: str, version: str, creds: Credentials | None = None) -> Any:
    return _call(cloud, "GET", path, version, creds=creds).json()


def _has_exactly(body: dict[str, Any], required: set[str], optional: frozenset[str] = frozenset()) -> None:
    assert required <= set(body), f"missing {required - set(body)}"
    assert set(body) <= required | optional, f"not in the reference at this version: {set(body) - required - optional}"


_KEY_LISTED = {"name", "public_key", "fingerprint"}
_KEY_SHOWN = _KEY_LISTED | {"user_id", "deleted", "created_at", "updated_at", "deleted_at", "id"}


def test_keypair_fields_per_microversion(cloud: ComputeCloud) -> None:
    made = _call(cloud, "POST", "/os-keypairs", "2.1", {"keypair": {"name": "kv-21"}})
    assert made.status_code == 200
    _has_exactly(made.json()["keypair"], _KEY_LISTED | {"user_id", "private_key"})
    for item in _get(cloud, "/os-keypairs", "2.1")["keypairs"]:
        _has_exactly(item, {"keypair"})
        _has_exactly(item["keypair"], _KEY_LISTED)
    shown = _get(cloud, "/os-keypairs/kv-21", "2.1")["keypair"]
    _has_exactly(shown, _KEY_SHOWN)
    assert shown["deleted"] is False and isinstance(shown["id"], int) and shown["deleted_at"] is None

    made = _call(cloud, "POST", "/os-keypairs", "2.2", {"keypair": {"name": "kv-22", "type": "ssh"}})
    assert made.status_code == 201
    _has_exactly(made.json()["keypair"], _KEY_LISTED | {"user_id", "private_key", "type"})
    for item in _get(cloud, "/os-keypairs", "2.2")["keypairs"]:
        _has_exactly(item["keypair"], _KEY_LISTED | {"type"})
    _has_exactly(_get(cloud, "/os-keypairs/kv-22", "2.2")["keypair"], _KEY_SHOWN | {"type"})
    for name in ("kv-21", "kv-22"):
        _call(cloud, "DELETE", f"/os-keypairs/{name}", "2.2")


_SERVICE = {"id", "zone", "host", "state", "binary", "status", "updated_at", "disabled_reason"}


def test_service_fields_per_microversion(cloud: ComputeCloud) -> None:
    old = _get(cloud, "/os-services", "2.1")["services"]
    assert old
    for svc in old:
        _has_exactly(svc, _SERVICE)
        assert isinstance(svc["id"], int)
    for svc in _get(cloud, "/os-services", "2.11")["services"]:
        _has_exactly(svc, _SERVICE | {"forced_down"})
        assert isinstance(svc["id"], int) and isinstance(svc["forced_down"], bool)
    new = _get(cloud, "/os-services", "2.53")["services"]
    assert all(isinstance(svc["id"], str) and len(svc["id"]) == 36 for svc in new)


_HYPERVISOR = {"id", "hypervisor_hostname", "state", "status"}
_HYPERVISOR_USAGE = {"cpu_info", "current_workload", "disk_available_least", "free_disk_gb", "free_ram_mb",
                     "local_gb", "local_gb_used", "memory_mb", "memory_mb_used", "running_vms", "vcpus", "vcpus_used"}
_HYPERVISOR_DETAIL = _HYPERVISOR | {"host_ip", "hypervisor_type", "hypervisor_version", "service"}


def test_hypervisor_fields_per_microversion(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    server = wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id).id, "ACTIVE")
    for item in _get(cloud, "/os-hypervisors", "2.1")["hypervisors"]:
        _has_exactly(item, _HYPERVISOR)
    detail = _get(cloud, "/os-hypervisors/detail", "2.1")["hypervisors"]
    for item in detail:
        _has_exactly(item, _HYPERVISOR_DETAIL | _HYPERVISOR_USAGE)
        assert isinstance(item["id"], int) and isinstance(item["service"]["id"], int)
        assert isinstance(json.loads(item["cpu_info"]), dict)  # a JSON-encoded string before 2.28
        assert item["free_ram_mb"] == item["memory_mb"] - item["memory_mb_used"]
        assert item["free_disk_gb"] == item["local_gb"] - item["local_gb_used"]
    assert sum(item["running_vms"] for item in detail) >= 1
    one = _get(cloud, f"/os-hypervisors/{detail[0]['id']}", "2.1")["hypervisor"]
    assert one["id"] == detail[0]["id"]
    assert _get(cloud, f"/os-hypervisors/{detail[0]['id']}/uptime", "2.1")["hypervisor"]["id"] == detail[0]["id"]

    for item in _get(cloud, "/os-hypervisors/detail", "2.28")["hypervisors"]:
        assert isinstance(item["cpu_info"], dict)
    for item in _get(cloud, "/os-hypervisors/detail", "2.53")["hypervisors"]:
        assert isinstance(item["id"], str) and len(item["id"]) == 36
    for item in _get(cloud, "/os-hypervisors/detail", "2.88")["hypervisors"]:
        _has_exactly(item, _HYPERVISOR_DETAIL | {"uptime"})
    cloud.connection().compute.delete_server(server.id)


_LIMITS = {"maxServerMeta", "maxTotalCores", "maxTotalInstances", "maxTotalKeypairs", "maxTotalRAMSize",
           "totalCoresUsed", "totalInstancesUsed", "totalRAMUsed", "maxServerGroupMembers", "maxServerGroups",
           "totalServerGroupsUsed"}
_LIMITS_NETWORK = {"maxSecurityGroupRules", "maxSecurityGroups", "maxTotalFloatingIps", "totalFloatingIpsUsed",
                   "totalSecurityGroupsUsed"}
_LIMITS_PERSONALITY = {"maxPersonality", "maxPersonalitySize"}


def test_limit_fields_per_microversion(cloud: ComputeCloud) -> None:
    for version, fields in (("2.1", _LIMITS | _LIMITS_NETWORK | _LIMITS_PERSONALITY | {"maxImageMeta"}),
                            ("2.36", _LIMITS | _LIMITS_PERSONALITY | {"maxImageMeta"}),
                            ("2.39", _LIMITS | _LIMITS_PERSONALITY), ("2.57", _LIMITS)):
        limits = _get(cloud, "/limits", version)["limits"]
        assert limits["rate"] == []
        _has_exactly(limits["absolute"], fields)
        assert all(isinstance(v, int) for v in limits["absolute"].values())
    absolute = _get(cloud, "/limits", "2.1")["limits"]["absolute"]
    assert absolute["maxImageMeta"] == absolute["maxServerMeta"]


# The server fields of the reference at 2.1 (OS-EXT-SRV-ATTR host/instance/hypervisor for admins only), the admin
# attributes 2.3 adds, and what 2.9/2.16/2.19/2.26 add.
_SERVER = {"id", "name", "status", "image", "flavor", "user_id", "tenant_id", "created", "updated", "metadata",
           "links", "addresses", "hostId", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6", "key_name",
           "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at", "OS-EXT-AZ:availability_zone",
           "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state", "config_drive", "progress",
           "os-extended-volumes:volumes_attached"}
_SERVER_ADMIN = {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:hypervisor_hostname"}
_SERVER_ADMIN_23 = {"OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index", "OS-EXT-SRV-ATTR:kernel_id",
                    "OS-EXT-SRV-ATTR:ramdisk_id", "OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:root_device_name",
                    "OS-EXT-SRV-ATTR:user_data"}


def test_server_fields_per_microversion(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    user = cloud.new_user()
    conn = cloud.connection(user)
    made = conn.compute.create_server(name="Web Server_1", image_id=image_id, flavor_id=flavor_id, networks="none",
                                      user_data="aGVsbG8=")
    wait_for_status(conn, made.id, "ACTIVE")
    path = f"/servers/{made.id}"
    _has_exactly(_get(cloud, path, "2.1", user)["server"], _SERVER)
    _has_exactly(_get(cloud, path, "2.1")["server"], _SERVER | _SERVER_ADMIN)
    _has_exactly(_get(cloud, path, "2.3", user)["server"], _SERVER)
    admin = _get(cloud, path, "2.3")["server"]
    _has_exactly(admin, _SERVER | _SERVER_ADMIN | _SERVER_ADMIN_23)
    assert admin["OS-EXT-SRV-ATTR:hostname"] == "web-server-1"
    assert admin["OS-EXT-SRV-ATTR:user_data"] == "aGVsbG8=" and admin["OS-EXT-SRV-ATTR:launch_index"] == 0
    assert admin["OS-EXT-SRV-ATTR:root_device_name"] == "/dev/vda"
    listed = _get(cloud, "/servers/detail?all_tenants=1", "2.3")["servers"]
    _has_exactly(next(s for s in listed if s["id"] == made.id), _SERVER | _SERVER_ADMIN | _SERVER_ADMIN_23)
    _has_exactly(_get(cloud, path, "2.26", user)["server"], _SERVER | {"locked", "description", "tags"})
    assert _get(cloud, path, "2.90", user)["server"]["OS-EXT-SRV-ATTR:hostname"] == "web-server-1"
    conn.compute.delete_server(made.id)


# What update and rebuild answer before 2.75 (Nova's show without the extensions' fields).
_CHANGED = {"id", "name", "status", "image", "flavor", "user_id", "tenant_id", "created", "updated", "metadata",
            "links", "addresses", "hostId", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6", "progress"}


def test_update_and_rebuild_fields_per_microversion(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    user = cloud.new_user()
    conn = cloud.connection(user)
    made = conn.compute.create_server(name="changed", image_id=image_id, flavor_id=flavor_id, networks="none")
    wait_for_status(conn, made.id, "ACTIVE")
    path = f"/servers/{made.id}"
    _has_exactly(_call(cloud, "PUT", path, "2.1", {"server": {"name": "a"}}, user).json()["server"], _CHANGED)
    _has_exactly(_call(cloud, "PUT", path, "2.26", {"server": {"name": "b"}}, user).json()["server"],
                 _CHANGED | {"locked", "description", "tags"})
    full = _call(cloud, "PUT", path, "2.75", {"server": {"name": "c"}}, user).json()["server"]
    assert full == _get(cloud, path, "2.75", user)["server"]

    rebuilt = _call(cloud, "POST", f"{path}/action", "2.1", {"rebuild": {"imageRef": image_id}}, user)
    _has_exactly(rebuilt.json()["server"], _CHANGED | {"adminPass"})
    wait_for_status(conn, made.id, "ACTIVE")
    rebuilt = _call(cloud, "POST", f"{path}/action", "2.57",
                    {"rebuild": {"imageRef": image_id, "user_data": "aGk="}}, user).json()["server"]
    _has_exactly(rebuilt, _CHANGED | {"adminPass", "locked", "description", "tags", "key_name", "user_data"})
    assert rebuilt["user_data"] == "aGk="
    wait_for_status(conn, made.id, "ACTIVE")
    # From 2.75 the full view, user data as ``user_data`` only (not the admin's extended attribute).
    rebuilt = _call(cloud, "POST", f"{path}/action", "2.75",
                    {"rebuild": {"imageRef": image_id, "user_data": "aGk="}}).json()["server"]
    assert rebuilt["user_data"] == "aGk=" and "OS-EXT-SRV-ATTR:user_data" not in rebuilt
    assert "OS-EXT-SRV-ATTR:host" in rebuilt
    wait_for_status(conn, made.id, "ACTIVE")
    conn.compute.delete_server(made.id)


def test_instance_action_fields_per_microversion(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    user = cloud.new_user()
    conn = cloud.connection(user)
    made = conn.compute.create_server(name="acted", image_id=image_id, flavor_id=flavor_id, networks="none")
    wait_for_status(conn, made.id, "ACTIVE")
    listed = _get(cloud, f"/servers/{made.id}/os-instance-actions", "2.1", user)["instanceActions"]
    fields = {"action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message"}
    _has_exactly(listed[0], fields)
    _has_exactly(_get(cloud, f"/servers/{made.id}/os-instance-actions", "2.58", user)["instanceActions"][0],
                 fields | {"updated_at"})
    shown = _get(cloud, f"/servers/{made.id}/os-instance-actions/{listed[0]['request_id']}", "2.1", user)
    _has_exactly(shown["instanceAction"], fields | {"events"})
    assert shown["instanceAction"]["action"] == "create"
    missing = requests.get(f"{cloud.url('compute-api')}/v2.1/servers/{made.id}/os-instance-actions/req-none",
                           headers={"X-Auth-Token": conn.session.get_token()}, timeout=10)
    assert missing.status_code == 404
    conn.compute.delete_server(made.id)
    conn.compute.wait_for_delete(made, wait=30)
    # From 2.21 a deleted server's actions stay readable; before, the server is not found.
    after = _get(cloud, f"/servers/{made.id}/os-instance-actions", "2.21", user)["instanceActions"]
    assert {a["action"] for a in after} >= {"create", "delete"}
    gone = requests.get(f"{cloud.url('compute-api')}/v2.1/servers/{made.id}/os-instance-actions", timeout=10,
                        headers={"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.20"})
    assert gone.status_code == 404


def test_access_addresses_progress_and_request_id_as_nova(cloud: ComputeCloud, image_id: str,
                                                          flavor_id: str) -> None:
    user = cloud.new_user()
    conn = cloud.connection(user)
    made = _call(cloud, "POST", "/servers", "2.37", {"server": {
        "name": "reach-me", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none",
        "accessIPv4": "1.1.1.1", "accessIPv6": "0000:0000:0000:0000:0000:babe:220.12.22.2"}}, user)
    # Nova's request id goes out under its compute-specific name too (novaclient and Tempest read it).
    assert made.headers["x-compute-request-id"] == made.headers["x-openstack-request-id"]
    server_id = made.json()["server"]["id"]
    shown = wait_for_status(conn, server_id, "ACTIVE")
    assert (shown.access_ipv4, shown.access_ipv6) == ("1.1.1.1", "::babe:dc0c:1602")  # canonical, as Nova
    changed = _call(cloud, "PUT", f"/servers/{server_id}", "2.1",
                    {"server": {"accessIPv4": "4.3.2.1", "accessIPv6": "::1"}}, user).json()["server"]
    assert (changed["accessIPv4"], changed["accessIPv6"]) == ("4.3.2.1", "::1")
    assert _get(cloud, f"/servers/{server_id}", "2.1", user)["server"]["accessIPv4"] == "4.3.2.1"
    token = cloud.connection(user).session.get_token()
    for bad in ({"accessIPv6": "notvalid"}, {"accessIPv4": "1.1.1"}):
        resp = requests.put(f"{cloud.url('compute-api')}/v2.1/servers/{server_id}", json={"server": bad},
                            headers={"X-Auth-Token": token}, timeout=30)
        assert resp.status_code == 400 and "accessIPv" in resp.json()["badRequest"]["message"], resp.text
    # progress only while the server is in a status that makes progress (ACTIVE yes, SHUTOFF no).
    assert "progress" in _get(cloud, f"/servers/{server_id}", "2.1", user)["server"]
    conn.compute.stop_server(server_id)
    wait_for_status(conn, server_id, "SHUTOFF")
    assert "progress" not in _get(cloud, f"/servers/{server_id}", "2.1", user)["server"]
    # A status no server can have lists nothing rather than failing.
    assert _get(cloud, "/servers?status=non_existing_status", "2.1", user)["servers"] == []
    conn.compute.delete_server(server_id)
