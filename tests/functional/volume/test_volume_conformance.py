"""The block storage API where Tempest's volume suite found it short of Cinder: admin actions on volumes and
snapshots (force delete, force detach, reset and update status), image metadata actions, retype in place, the
volume summary (3.12), list offsets, clones keeping bootable, services, pools, capabilities and quota classes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests import fixtures
from tests.functional.cloud import Cloud
from tests.functional.volume.test_volumes import Api


@pytest.fixture()
def member(cloud: Cloud) -> Api:
    """A member (and reader) of a new project for each test, so no test runs into another's volume quota."""
    return Api(cloud, cloud.new_user(["member", "reader"]))


def _act(api: Api, volume_id: str, body: dict[str, Any], kind: str = "volumes") -> Any:
    return api.call("POST", f"/{kind}/{volume_id}/action", body)


def _snapshot(api: Api, volume_id: str) -> dict[str, Any]:
    snap = api.ok("POST", "/snapshots", {"snapshot": {"volume_id": volume_id}}, status=202)["snapshot"]
    fixtures.wait_until(lambda: api.ok("GET", f"/snapshots/{snap['id']}")["snapshot"]["status"] == "available",
                        timeout=30, interval=0.1, what="the snapshot")
    return snap


def test_force_delete_whatever_the_status(admin: Api, member: Api) -> None:
    for status in ("creating", "attaching", "error", "maintenance"):
        vol = member.wait(member.create()["id"], "available")
        # Only an admin may force.
        assert _act(member, vol["id"], {"os-force_delete": {}}).status_code == 403
        assert _act(admin, vol["id"], {"os-reset_status": {"status": status}}).status_code == 202
        if status != "error":
            assert member.call("DELETE", f"/volumes/{vol['id']}").status_code == 400
        assert _act(admin, vol["id"], {"os-force_delete": {}}).status_code == 202
        member.gone(f"/volumes/{vol['id']}")
    # Still not with snapshots, nor while attached.
    vol = member.wait(member.create()["id"], "available")
    snap = _snapshot(member, vol["id"])
    refused = _act(admin, vol["id"], {"os-force_delete": {}})
    assert refused.status_code == 400 and "snapshots" in refused.text
    member.ok("DELETE", f"/snapshots/{snap['id']}")
    member.gone(f"/snapshots/{snap['id']}")
    member.ok("POST", f"/volumes/{vol['id']}/action", {"os-attach": {"host_name": "h", "mountpoint": "/dev/vdb"}})
    assert _act(admin, vol["id"], {"os-force_delete": {}}).status_code == 400


def test_force_detach_and_repeated_detach(admin: Api, member: Api) -> None:
    vol = member.wait(member.create()["id"], "available")
    member.ok("POST", f"/volumes/{vol['id']}/action",
              {"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdb"}}, status=202)
    attachment = member.wait(vol["id"], "in-use")["attachments"][0]
    admin.ok("POST", f"/volumes/{vol['id']}/action", {"os-reset_status": {"status": "error"}})
    assert _act(member, vol["id"], {"os-force_detach": {}}).status_code == 403
    wrong = _act(admin, vol["id"], {"os-force_detach": {"attachment_id": str(uuid.uuid4()), "connector": None}})
    assert wrong.status_code == 400 and "no attachment" in wrong.text
    assert _act(admin, vol["id"], {"os-force_detach": {"attachment_id": attachment["attachment_id"],
                                                       "connector": None}}).status_code == 202
    shown = member.volume(vol["id"])
    assert shown["status"] == "available" and shown["attachments"] == []
    # As Cinder: detaching a volume that has no attachment leaves it available (a repeated detach is fine).
    assert _act(member, vol["id"], {"os-detach": {}}).status_code == 202
    assert member.volume(vol["id"])["status"] == "available"


def test_image_metadata_actions(admin: Api, member: Api) -> None:
    vol = member.wait(member.create()["id"], "available")
    assert "volume_image_metadata" not in member.volume(vol["id"])
    assert member.ok("POST", f"/volumes/{vol['id']}/action", {"os-show_image_metadata": {}}) == {"metadata": {}}
    items = {"image_id": str(uuid.uuid4()), "image_name": "image", "kernel_id": "k", "ramdisk_id": "r"}
    assert member.ok("POST", f"/volumes/{vol['id']}/action",
                     {"os-set_image_metadata": {"metadata": items}}) == {"metadata": items}
    assert member.volume(vol["id"])["volume_image_metadata"] == items
    assert _act(member, vol["id"], {"os-unset_image_metadata": {"key": "ramdisk_id"}}).status_code == 200
    missing = _act(member, vol["id"], {"os-unset_image_metadata": {"key": "ramdisk_id"}})
    assert missing.status_code == 404 and "ramdisk_id" in missing.text
    shown = member.ok("POST", f"/volumes/{vol['id']}/action", {"os-show_image_metadata": {}})["metadata"]
    assert "ramdisk_id" not in shown and shown["kernel_id"] == "k"
    bad = _act(member, vol["id"], {"os-set_image_metadata": {"metadata": {"k": 1}}})
    assert bad.status_code == 400
    # A clone keeps the image metadata and bootable.
    member.ok("POST", f"/volumes/{vol['id']}/action", {"os-set_bootable": {"bootable": True}})
    clone = member.wait(member.create(source_volid=vol["id"])["id"], "available")
    assert clone["bootable"] == "true" and clone["volume_image_metadata"]["kernel_id"] == "k"


def test_retype_in_place(admin: Api, member: Api) -> None:
    gold = admin.ok("POST", "/types", {"volume_type": {"name": f"gold-{uuid.uuid4().hex[:6]}",
                                                        "extra_specs": {"volume_backend_name": "file"}}})
    elsewhere = admin.ok("POST", "/types", {"volume_type": {"name": f"far-{uuid.uuid4().hex[:6]}",
                                                             "extra_specs": {"volume_backend_name": "lvm"}}})
    vol = member.wait(member.create()["id"], "available")
    assert _act(member, vol["id"], {"os-retype": {"new_type": gold["volume_type"]["id"],
                                                   "migration_policy": "never"}}).status_code == 202
    assert member.volume(vol["id"])["volume_type"] == gold["volume_type"]["name"]
    same = _act(member, vol["id"], {"os-retype": {"new_type": gold["volume_type"]["name"]}})
    assert same.status_code == 400 and "already" in same.text
    far = _act(member, vol["id"], {"os-retype": {"new_type": elsewhere["volume_type"]["id"],
                                                  "migration_policy": "on-demand"}})
    assert far.status_code == 400 and "lvm" in far.text
    assert _act(member, vol["id"], {"os-retype": {"new_type": str(uuid.uuid4())}}).status_code == 404


def test_summary_and_offset(cloud: Cloud) -> None:
    other = Api(cloud, cloud.new_user(["member", "reader"], prefix="sum"))
    for size, tier in ((1, "gold"), (2, "gold"), (1, "silver")):
        other.wait(other.create(size, metadata={"tier": tier})["id"], "available")
    assert other.call("GET", "/volumes/summary").status_code == 404  # before 3.12
    at_312 = other.call("GET", "/volumes/summary", version="3.12").json()
    assert at_312 == {"volume-summary": {"total_count": 3, "total_size": 4}}
    at_336 = other.call("GET", "/volumes/summary", version="3.36").json()["volume-summary"]
    assert sorted(at_336["metadata"]["tier"]) == ["gold", "silver"]
    filtered = other.call("GET", "/volumes/summary?size=1", version="3.12").json()["volume-summary"]
    assert filtered == {"total_count": 2, "total_size": 2}
    # offset skips that many of the sorted list.
    everything = [v["id"] for v in other.ok("GET", "/volumes")["volumes"]]
    assert [v["id"] for v in other.ok("GET", "/volumes?offset=2&limit=3")["volumes"]] == everything[2:]
    assert other.call("GET", "/volumes?offset=x").status_code == 400
    # GET .../volumes/ (no id) is a 404, not the list.
    assert other.call("GET", "/volumes/").status_code == 404


def test_snapshot_admin_actions(admin: Api, member: Api) -> None:
    vol = member.wait(member.create()["id"], "available")
    snap = _snapshot(member, vol["id"])
    path = f"/snapshots/{snap['id']}"
    assert _act(member, snap["id"], {"os-reset_status": {"status": "creating"}}, "snapshots").status_code == 403
    assert _act(admin, snap["id"], {"os-reset_status": {"status": "creating"}}, "snapshots").status_code == 202
    assert _act(admin, snap["id"], {"os-reset_status": {"status": "bogus"}}, "snapshots").status_code == 400
    update = {"os-update_snapshot_status": {"status": "error", "progress": "80%"}}
    assert _act(member, snap["id"], update, "snapshots").status_code == 202
    shown = admin.ok("GET", path)["snapshot"]
    assert shown["status"] == "error" and shown["os-extended-snapshot-attributes:progress"] == "80%"
    # From error, os-update_snapshot_status may not move it.
    refused = _act(member, snap["id"], {"os-update_snapshot_status": {"status": "available"}}, "snapshots")
    assert refused.status_code == 400
    # A force delete takes a snapshot in any status.
    admin.ok("POST", f"{path}/action", {"os-reset_status": {"status": "error_deleting"}})
    assert member.call("DELETE", path).status_code == 400
    assert _act(admin, snap["id"], {"os-force_delete": {}}, "snapshots").status_code == 202
    member.gone(path)


def test_services_pools_and_capabilities(admin: Api, member: Api) -> None:
    (svc,) = admin.ok("GET", "/os-services")["services"]
    host = svc["host"].split("@")[0]
    assert admin.ok("GET", f"/os-services?host={host}")["services"] == [svc] or \
        admin.ok("GET", f"/os-services?host={host}")["services"][0]["host"] == svc["host"]
    assert admin.ok("GET", "/os-services?host=nohost")["services"] == []
    assert admin.call("PUT", "/os-services/enable", {"host": "nohost", "binary": "cinder-volume"}).status_code == 404
    assert admin.call("PUT", "/os-services/disable", {"host": svc["host"], "binary": "x"}).status_code == 404
    assert admin.call("PUT", "/os-services/disable-log-reason",
                      {"host": svc["host"], "binary": "cinder-volume", "disabled_reason": None}).status_code == 400
    assert admin.call("PUT", "/os-services/freeze", {"host": "nohost"}).status_code == 400
    assert admin.call("PUT", "/os-services/thaw", {"host": "nohost"}).status_code == 400
    assert member.call("PUT", "/os-services/enable", {"host": svc["host"], "binary": "cinder-volume"}).status_code \
        == 403
    disabled = admin.ok("PUT", "/os-services/disable-log-reason",
                        {"host": svc["host"], "binary": "cinder-volume", "disabled_reason": "maintenance"})
    assert disabled["status"] == "disabled" and disabled["disabled_reason"] == "maintenance"
    assert admin.ok("GET", "/os-services")["services"][0]["disabled_reason"] == "maintenance"
    # A disabled host takes no new volume.
    refused = member.wait(member.create()["id"], "error")
    assert refused["status"] == "error"
    enabled = admin.ok("PUT", "/os-services/enable", {"host": svc["host"], "binary": "cinder-volume"})
    assert enabled == {"host": svc["host"], "binary": "cinder-volume", "service": "cinder-volume",
                       "disabled": False, "status": "enabled", "disabled_reason": None}

    (pool,) = admin.ok("GET", "/scheduler-stats/get_pools")["pools"]
    assert pool == {"name": f"{svc['host']}#file"}
    (detail,) = admin.ok("GET", "/scheduler-stats/get_pools?detail=true")["pools"]
    caps = detail["capabilities"]
    assert caps["vendor_name"] == "Open Source" and caps["storage_protocol"] == "NBD"
    assert caps["volume_backend_name"] == "file" and caps["total_capacity_gb"] == 50
    assert member.call("GET", "/scheduler-stats/get_pools").status_code == 403
    shown = admin.ok("GET", f"/capabilities/{pool['name']}")
    assert (shown["vendor_name"], shown["storage_protocol"], shown["volume_backend_name"]) == (
        "Open Source", "NBD", "file")
    assert admin.call("GET", "/capabilities/nohost").status_code == 404


def test_quota_classes_and_shown_quotas(cloud: Cloud, admin: Api, member: Api) -> None:
    shown = admin.ok("GET", "/os-quota-class-sets/default")["quota_class_set"]
    assert shown["id"] == "default" and {"volumes", "gigabytes", "snapshots", "backups"} <= set(shown)
    assert admin.call("GET", "/os-quota-class-sets/gold").status_code == 404
    assert member.call("GET", "/os-quota-class-sets/default").status_code == 403
    try:
        changed = admin.ok("PUT", "/os-quota-class-sets/default",
                           {"quota_class_set": {"snapshots": shown["snapshots"] + 1, "backups": shown["backups"]}})
        assert changed["quota_class_set"]["snapshots"] == shown["snapshots"] + 1
        fresh = Api(cloud, cloud.new_user(["member"], prefix="quota"))
        defaults = admin.ok("GET", f"/os-quota-sets/{fresh.project_id}/defaults")["quota_set"]
        assert defaults["snapshots"] == shown["snapshots"] + 1
    finally:
        admin.ok("PUT", "/os-quota-class-sets/default", {"quota_class_set": {"snapshots": shown["snapshots"]}})
    # Quotas read back can be written back as they are.
    quota = admin.ok("GET", f"/os-quota-sets/{member.project_id}")["quota_set"]
    del quota["id"]
    assert admin.call("PUT", f"/os-quota-sets/{member.project_id}", {"quota_set": quota}).status_code == 200
    groups = admin.ok("PUT", f"/os-quota-sets/{member.project_id}", {"quota_set": {"groups": 5}})
    assert groups["quota_set"]["groups"] == 5  # counted (generic volume groups), so settable
    backups = admin.ok("PUT", f"/os-quota-sets/{member.project_id}", {"quota_set": {"backups": 5}})
    assert backups["quota_set"]["backups"] == 5  # counted, so settable


def test_extra_specs_choose_the_backend_and_failures_leave_messages(admin: Api, member: Api) -> None:
    def vtype(specs: dict[str, str]) -> str:
        return admin.ok("POST", "/types", {"volume_type": {"name": f"t-{uuid.uuid4().hex[:8]}",
                                                            "extra_specs": specs}})["volume_type"]["id"]

    fits = vtype({"storage_protocol": "NBD", "vendor_name": "Open Source",
                  "capabilities:volume_backend_name": "file", "qos:read_iops": "100"})
    assert member.wait(member.create(volume_type=fits)["id"], "available")["status"] == "available"
    numeric = vtype({"driver_version": ">= 1.0", "storage_protocol": "<in> NB"})
    assert member.wait(member.create(volume_type=numeric)["id"], "available")["status"] == "available"

    wrong = vtype({"storage_protocol": "iSCSI", "vendor_name": "Acme"})
    vol = member.wait(member.create(volume_type=wrong)["id"], "error")
    assert member.call("GET", "/messages").status_code == 404  # before 3.3
    listed = member.call("GET", "/messages", version="3.3").json()["messages"]
    (msg,) = [m for m in listed if m.get("resource_uuid") == vol["id"]]
    assert msg["event_id"] == "VOLUME_VOLUME_001_003" and msg["resource_type"] == "VOLUME"
    assert msg["user_message"].startswith("schedule allocate volume") and msg["message_level"] == "ERROR"
    assert msg["request_id"].startswith("req-") and msg["guaranteed_until"] > msg["created_at"]
    shown = member.call("GET", f"/messages/{msg['id']}", version="3.3")
    assert shown.status_code == 200 and shown.json()["message"]["id"] == msg["id"]
    # Another project sees none of it.
    assert admin.call("GET", "/messages", version="3.3").json()["messages"] == [] or all(
        m["id"] != msg["id"] for m in admin.call("GET", "/messages", version="3.3").json()["messages"])
    assert member.call("DELETE", f"/messages/{msg['id']}", version="3.3").status_code == 204
    assert member.call("GET", f"/messages/{msg['id']}", version="3.3").status_code == 404
    # The type's specs also decide a retype in place.
    ok = member.wait(member.create()["id"], "available")
    refused = _act(member, ok["id"], {"os-retype": {"new_type": wrong}})
    assert refused.status_code == 400 and "storage_protocol=iSCSI" in refused.text


def test_extensions_and_hosts(admin: Api, member: Api) -> None:
    listed = {e["alias"]: e for e in member.ok("GET", "/extensions")["extensions"]}
    assert {"os-admin-actions", "os-hosts", "os-volume-actions", "scheduler-stats"} <= set(listed)
    assert listed["os-hosts"]["name"] == "Hosts" and listed["os-hosts"]["links"] == []
    (host,) = admin.ok("GET", "/os-hosts")["hosts"]
    assert host["service"] == "cinder-volume" and host["service-state"] == "enabled"
    assert host["service-status"] == "available" and host["zone"] == "nova"
    assert member.call("GET", "/os-hosts").status_code == 403
    vol = member.wait(member.create(2)["id"], "available")
    _snapshot(member, vol["id"])
    usage = admin.ok("GET", f"/os-hosts/{host['host_name']}")["host"]
    assert usage[0]["resource"]["project"] == "(total)"
    mine = next(r["resource"] for r in usage if r["resource"]["project"] == member.project_id)
    assert mine == {"project": member.project_id, "host": host["host_name"], "volume_count": "1",
                    "total_volume_gb": "2", "snapshot_count": "1", "total_snapshot_gb": "2"}
    assert admin.call("GET", "/os-hosts/nohost").status_code == 404


def test_per_volume_gigabytes_limits_each_volume(admin: Api, member: Api) -> None:
    path = f"/os-quota-sets/{member.project_id}"
    assert admin.ok("GET", path)["quota_set"]["per_volume_gigabytes"] == -1
    assert admin.ok("PUT", path, {"quota_set": {"per_volume_gigabytes": 2}})["quota_set"]["per_volume_gigabytes"] == 2
    assert admin.ok("GET", f"{path}?usage=true")["quota_set"]["per_volume_gigabytes"]["limit"] == 2
    too_big = member.call("POST", "/volumes", {"volume": {"size": 3}})
    assert too_big.status_code == 413 and "VolumeSizeExceedsLimit" in too_big.text
    vol = member.wait(member.create(2)["id"], "available")
    grown = _act(member, vol["id"], {"os-extend": {"new_size": 3}})
    assert grown.status_code == 413 and "3G" in grown.text
    admin.ok("DELETE", path)
    assert admin.ok("GET", path)["quota_set"]["per_volume_gigabytes"] == -1
    assert _act(member, vol["id"], {"os-extend": {"new_size": 3}}).status_code == 202
