"""Volume backups through the API (Cinder's backup API, the checks of Tempest's test_volumes_backup and
admin/test_volumes_backup): create, list, show, update, restore, incremental backups, the admin actions,
export and import, quotas, and a restarted manager settling interrupted backups."""

from __future__ import annotations

import os
import stat
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from tests import fixtures
from tests.functional.cloud import Cloud
from tests.functional.volume.test_volumes import Api

GiB = 1024 ** 3
# The fields of a backup's detail at 3.0, as Tempest's schema has them (it allows no others).
DETAIL_FIELDS = {"id", "status", "size", "object_count", "availability_zone", "container", "created_at",
                 "updated_at", "name", "description", "fail_reason", "volume_id", "links", "is_incremental",
                 "has_dependent_backups", "snapshot_id", "data_timestamp"}



@pytest.fixture(scope="module")
def member(cloud: Cloud) -> Api:
    return Api(cloud, cloud.new_user(["member", "reader"], prefix="bk"))


def _volume_file(cloud: Cloud, volume_id: str) -> str:
    return os.path.join(cloud.aio.options.state_dir, "volumes", f"volume-{volume_id}")


def _backup_dir(cloud: Cloud) -> str:
    return os.path.join(cloud.aio.options.state_dir, "backups")


def _write(cloud: Cloud, volume_id: str, offset: int, data: bytes) -> None:
    with open(_volume_file(cloud, volume_id), "r+b") as f:
        f.seek(offset)
        f.write(data)


def _read(cloud: Cloud, volume_id: str, offset: int, length: int) -> bytes:
    with open(_volume_file(cloud, volume_id), "rb") as f:
        f.seek(offset)
        return f.read(length)


def _backup(api: Api, backup_id: str, version: str | None = None) -> dict[str, Any]:
    resp = api.call("GET", f"/backups/{backup_id}", version=version)
    assert resp.status_code == 200, resp.text
    found: dict[str, Any] = resp.json()["backup"]
    return found


def _wait_backup(api: Api, backup_id: str, status: str) -> dict[str, Any]:
    fixtures.wait_until(lambda: _backup(api, backup_id)["status"] == status, timeout=60, interval=0.1,
                        what=f"backup {backup_id} to be {status}")
    return _backup(api, backup_id)


def _make_backup(api: Api, volume_id: str, version: str | None = None, **extra: Any) -> dict[str, Any]:
    resp = api.call("POST", "/backups", {"backup": {"volume_id": volume_id, **extra}}, version=version)
    assert resp.status_code == 202, resp.text
    made = resp.json()["backup"]
    assert set(made) == {"id", "name", "links"}
    return _wait_backup(api, made["id"], "available")


def _delete_backup(api: Api, backup_id: str) -> None:
    api.ok("DELETE", f"/backups/{backup_id}", status=202)
    api.gone(f"/backups/{backup_id}")


def test_backup_show_list_restore_delete(cloud: Cloud, member: Api, admin: Api) -> None:
    """Tempest's create/get/detailed list/restore/delete: the restored volume has the data and the metadata."""
    vol = member.wait(member.create(1, metadata={"vol-meta1": "value1", "vol-meta2": "value2"})["id"], "available")
    _write(cloud, vol["id"], 4096, b"first backup data")
    resp = member.call("POST", "/backups", {"backup": {"volume_id": vol["id"], "name": "bk1", "description": "d1",
                                                       "container": "c1"}})
    assert resp.status_code == 202, resp.text
    made = resp.json()["backup"]
    assert made["name"] == "bk1" and made["links"][0]["href"].endswith(f"/backups/{made['id']}")
    assert member.volume(vol["id"])["status"] in ("backing-up", "available")
    backup = _wait_backup(member, made["id"], "available")
    assert member.volume(vol["id"])["status"] == "available"
    assert set(backup) == DETAIL_FIELDS, set(backup) ^ DETAIL_FIELDS
    assert (backup["name"], backup["description"], backup["container"], backup["size"], backup["volume_id"]) == (
        "bk1", "d1", "c1", 1, vol["id"])
    assert (backup["is_incremental"], backup["has_dependent_backups"], backup["fail_reason"]) == (False, False, None)
    assert backup["availability_zone"] == "nova" and backup["object_count"] == 1 and backup["data_timestamp"]

    # The store is private: the directory 0700, each backup file 0600, and it is compressed qcow2.
    store = _backup_dir(cloud)
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o700
    path = os.path.join(store, f"backup-{backup['id']}")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, "rb") as f:
        assert f.read(4) == b"QFI\xfb"
    assert os.path.getsize(path) < 10 * 1024 * 1024

    listed = member.ok("GET", "/backups")["backups"]
    assert {"id": backup["id"], "name": "bk1", "links": backup["links"]} in listed
    detailed = member.ok("GET", "/backups/detail")["backups"]
    assert (backup["name"], backup["id"]) in [(b["name"], b["id"]) for b in detailed]
    # Another project sees nothing of it.
    other = Api(cloud, cloud.new_user(["member"], prefix="bko"))
    assert other.call("GET", f"/backups/{backup['id']}").status_code == 404
    assert backup["id"] not in other.call("GET", "/backups").text
    assert other.call("DELETE", f"/backups/{backup['id']}").status_code == 404
    # Owner attributes are for admins, from 3.18 (project) and 3.56 (user).
    assert "os-backup-project-attr:project_id" not in _backup(member, backup["id"], "3.60")
    shown = _backup(admin, backup["id"], "3.60")
    assert shown["os-backup-project-attr:project_id"] == member.project_id and shown["user_id"]
    assert "os-backup-project-attr:project_id" not in _backup(admin, backup["id"], "3.17")

    # Restore to a new volume: Cinder's name, the data and the source volume's metadata.
    restore = member.call("POST", f"/backups/{backup['id']}/restore", {"restore": None})
    assert restore.status_code == 202, restore.text
    body = restore.json()["restore"]
    assert body["backup_id"] == backup["id"] and body["volume_name"] == f"restore_backup_{backup['id']}"
    _wait_backup(member, backup["id"], "available")
    restored = member.wait(body["volume_id"], "available")
    assert restored["size"] == 1 and restored["description"] == "auto-created_from_restore_from_backup"
    assert {"vol-meta1": "value1", "vol-meta2": "value2"}.items() <= restored["metadata"].items()
    assert _read(cloud, restored["id"], 4096, 17) == b"first backup data"

    # Restore over an existing volume: it must be available and large enough.
    small_target = member.wait(member.create(1)["id"], "available")
    _write(cloud, small_target["id"], 4096, b"to be overwritten")
    named = member.ok("POST", f"/backups/{backup['id']}/restore",
                      {"restore": {"volume_id": small_target["id"], "name": "ignored"}}, status=202)["restore"]
    assert named["volume_id"] == small_target["id"]
    member.wait(small_target["id"], "available")
    _wait_backup(member, backup["id"], "available")
    assert _read(cloud, small_target["id"], 4096, 17) == b"first backup data"

    # The volume may go while its backups stay (backups are independent, as Cinder's).
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")
    again = member.ok("POST", f"/backups/{backup['id']}/restore", {"restore": {"name": "second"}},
                      status=202)["restore"]
    assert again["volume_name"] == "second"
    member.wait(again["volume_id"], "available")
    assert _read(cloud, again["volume_id"], 4096, 17) == b"first backup data"

    _delete_backup(member, backup["id"])
    assert not os.path.exists(path)
    for volume_id in (restored["id"], small_target["id"], again["volume_id"]):
        member.ok("DELETE", f"/volumes/{volume_id}")


def test_restore_refusals_and_bad_input(cloud: Cloud, member: Api) -> None:
    vol = member.wait(member.create(2)["id"], "available")
    backup = _make_backup(member, vol["id"])
    small = member.wait(member.create(1)["id"], "available")
    too_small = member.call("POST", f"/backups/{backup['id']}/restore", {"restore": {"volume_id": small["id"]}})
    assert too_small.status_code == 400 and "too small" in too_small.text, too_small.text
    member.ok("POST", f"/volumes/{vol['id']}/action", {"os-reserve": None}, status=202)
    busy = member.call("POST", f"/backups/{backup['id']}/restore", {"restore": {"volume_id": vol["id"]}})
    assert busy.status_code == 400 and "available" in busy.text
    member.ok("POST", f"/volumes/{vol['id']}/action", {"os-unreserve": None}, status=202)
    missing = member.call("POST", f"/backups/{backup['id']}/restore", {"restore": {"volume_id": str(uuid.uuid4())}})
    assert missing.status_code == 404
    assert member.call("POST", f"/backups/{uuid.uuid4()}/restore", {"restore": {}}).status_code == 404
    bad: Any
    for bad in ({}, {"restore": {"size": 1}}, {"restore": {"volume_id": 5}}, []):
        assert member.call("POST", f"/backups/{backup['id']}/restore", bad).status_code == 400, bad
    for bad in ({"backup": {}}, {"backup": {"volume_id": vol["id"], "color": "red"}},
                {"backup": {"volume_id": vol["id"], "incremental": "maybe"}}, {"volume_id": vol["id"]},
                {"backup": {"volume_id": vol["id"], "metadata": {"a": "b"}}}):  # metadata from 3.43 only
        resp = member.call("POST", "/backups", bad)
        assert resp.status_code == 400 and "badRequest" in resp.json(), (bad, resp.text)
    assert member.call("POST", "/backups", {"backup": {"volume_id": str(uuid.uuid4())}}).status_code == 404
    assert member.call("GET", "/backups?sort=bootable:asc").status_code == 400
    assert member.call("GET", "/backups?limit=no").status_code == 400
    for volume_id in (vol["id"], small["id"]):
        member.ok("DELETE", f"/volumes/{volume_id}")
    _delete_backup(member, backup["id"])

    # A new volume goes on the backup's host: it must have room (50 GiB x 2 here, 60 of them taken).
    big = member.wait(member.create(60)["id"], "available")
    big_backup = _make_backup(member, big["id"])
    no_room = member.call("POST", f"/backups/{big_backup['id']}/restore", {"restore": None})
    assert no_room.status_code == 400 and "no room" in no_room.text, no_room.text
    assert _backup(member, big_backup["id"])["status"] == "available"
    assert not [v for v in member.ok("GET", "/volumes")["volumes"] if (v["name"] or "").startswith("restore_backup_")]
    member.ok("DELETE", f"/volumes/{big['id']}")
    _delete_backup(member, big_backup["id"])


def test_update_metadata_filters_and_pages(cloud: Cloud, member: Api) -> None:
    vol = member.wait(member.create(1)["id"], "available")
    first = _make_backup(member, vol["id"], name="alpha")
    second = _make_backup(member, vol["id"], version="3.43", name="beta", metadata={"k": "v"})
    assert _backup(member, second["id"], "3.43")["metadata"] == {"k": "v"}
    assert "metadata" not in _backup(member, second["id"], "3.42")

    # PUT is there from 3.9 (name, description; metadata from 3.43).
    assert member.call("PUT", f"/backups/{first['id']}", {"backup": {"name": "x"}}).status_code == 404
    updated = member.call("PUT", f"/backups/{first['id']}", {"backup": {"name": "gamma", "description": "dd"}},
                          version="3.9")
    assert updated.status_code == 200 and updated.json()["backup"]["name"] == "gamma", updated.text
    assert (_backup(member, first["id"])["name"], _backup(member, first["id"])["description"]) == ("gamma", "dd")
    assert member.call("PUT", f"/backups/{first['id']}", {"backup": {"metadata": {"a": "b"}}},
                       version="3.9").status_code == 400
    member.call("PUT", f"/backups/{first['id']}", {"backup": {"metadata": {"a": "b"}}}, version="3.43")
    assert _backup(member, first["id"], "3.43")["metadata"] == {"a": "b"}

    assert [b["id"] for b in member.ok("GET", "/backups/detail?name=beta")["backups"]] == [second["id"]]
    assert {b["id"] for b in member.ok("GET", f"/backups?volume_id={vol['id']}")["backups"]} == {
        first["id"], second["id"]}
    assert member.ok("GET", "/backups?status=error")["backups"] == []
    page = member.ok("GET", "/backups?limit=1&sort=created_at:asc")
    assert [b["id"] for b in page["backups"]] == [first["id"]] and page["backups_links"][0]["rel"] == "next"
    after = member.ok("GET", f"/backups?limit=1&sort=created_at:asc&marker={first['id']}")
    assert [b["id"] for b in after["backups"]] == [second["id"]]
    assert [b["name"] for b in member.ok("GET", "/backups?sort=name:desc")["backups"]][:2] == ["gamma", "beta"]
    assert member.call("GET", f"/backups?marker={uuid.uuid4()}").status_code == 404
    for backup_id in (first["id"], second["id"]):
        _delete_backup(member, backup_id)
    member.ok("DELETE", f"/volumes/{vol['id']}")


def test_incremental_backups(cloud: Cloud, member: Api, admin: Api) -> None:
    """Tempest's incremental test: the parent has dependents, the child is incremental, a new incremental
    follows a deleted one; the child stores only what changed and restores the volume as it was then."""
    vol = member.wait(member.create(1)["id"], "available")
    no_full = member.call("POST", "/backups", {"backup": {"volume_id": vol["id"], "incremental": True}})
    assert no_full.status_code == 400 and "No backups available" in no_full.text, no_full.text
    assert member.volume(vol["id"])["status"] == "available"
    _write(cloud, vol["id"], 0, b"base")
    _write(cloud, vol["id"], 512 * 1024 * 1024, os.urandom(4 * 1024 * 1024))  # incompressible: a full copy is big
    full = _make_backup(member, vol["id"])
    _write(cloud, vol["id"], 0, b"next")
    incr = _make_backup(member, vol["id"], incremental=True)
    assert (incr["is_incremental"], incr["has_dependent_backups"]) == (True, False)
    assert _backup(member, full["id"])["has_dependent_backups"] is True
    full_size = os.path.getsize(os.path.join(_backup_dir(cloud), f"backup-{full['id']}"))
    incr_size = os.path.getsize(os.path.join(_backup_dir(cloud), f"backup-{incr['id']}"))
    assert incr_size < full_size / 4, (incr_size, full_size)
    refused = member.call("DELETE", f"/backups/{full['id']}")
    assert refused.status_code == 400 and "Incremental backups exist" in refused.text
    forced = admin.call("POST", f"/backups/{full['id']}/action", {"os-force_delete": {}})
    assert forced.status_code == 400 and "Incremental backups exist" in forced.text

    restored = member.ok("POST", f"/backups/{incr['id']}/restore", {"restore": None}, status=202)["restore"]
    member.wait(restored["volume_id"], "available")
    assert _read(cloud, restored["volume_id"], 0, 4) == b"next"
    assert _read(cloud, restored["volume_id"], 512 * 1024 * 1024, 64) == _read(cloud, vol["id"], 512 * 1024 * 1024, 64)

    _delete_backup(member, incr["id"])
    assert _backup(member, full["id"])["has_dependent_backups"] is False
    third = _make_backup(member, vol["id"], incremental="true")
    assert (third["is_incremental"], third["has_dependent_backups"]) == (True, False)
    _delete_backup(member, third["id"])
    _delete_backup(member, full["id"])
    for volume_id in (vol["id"], restored["volume_id"]):
        member.ok("DELETE", f"/volumes/{volume_id}")


def test_in_use_volume_needs_force_and_snapshots_back_up(cloud: Cloud, member: Api) -> None:
    vol = member.wait(member.create(1)["id"], "available")
    act = f"/volumes/{vol['id']}/action"
    member.ok("POST", act, {"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdb"}}, status=202)
    assert member.volume(vol["id"])["status"] == "in-use"
    refused = member.call("POST", "/backups", {"backup": {"volume_id": vol["id"]}})
    assert refused.status_code == 400 and "force" in refused.text
    forced = _make_backup(member, vol["id"], force=True)
    assert member.volume(vol["id"])["status"] == "in-use"  # back to what it was
    member.ok("POST", act, {"os-detach": {}}, status=202)

    # A snapshot's data (not the volume's now).
    _write(cloud, vol["id"], 0, b"snap")
    snap = member.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}}, status=202)["snapshot"]
    fixtures.wait_until(lambda: member.ok("GET", f"/snapshots/{snap['id']}")["snapshot"]["status"] == "available",
                        timeout=30, what="the snapshot")
    _write(cloud, vol["id"], 0, b"live")
    of_snap = _make_backup(member, vol["id"], snapshot_id=snap["id"])
    assert of_snap["snapshot_id"] == snap["id"]
    assert member.ok("GET", f"/snapshots/{snap['id']}")["snapshot"]["status"] == "available"
    other_vol = member.wait(member.create(1)["id"], "available")
    mismatch = member.call("POST", "/backups", {"backup": {"volume_id": other_vol["id"], "snapshot_id": snap["id"]}})
    assert mismatch.status_code == 400 and "does not match" in mismatch.text
    restored = member.ok("POST", f"/backups/{of_snap['id']}/restore", {"restore": None}, status=202)["restore"]
    member.wait(restored["volume_id"], "available")
    assert _read(cloud, restored["volume_id"], 0, 4) == b"snap"
    for backup_id in (forced["id"], of_snap["id"]):
        _delete_backup(member, backup_id)
    member.ok("DELETE", f"/snapshots/{snap['id']}")
    member.gone(f"/snapshots/{snap['id']}")
    for volume_id in (vol["id"], other_vol["id"], restored["volume_id"]):
        member.ok("DELETE", f"/volumes/{volume_id}")


def test_backup_quotas(cloud: Cloud, admin: Api) -> None:
    user = Api(cloud, cloud.new_user(["member", "reader"], prefix="bkq"))
    target = f"/os-quota-sets/{user.project_id}"
    defaults = user.ok("GET", f"{target}/defaults")["quota_set"]
    assert (defaults["backups"], defaults["backup_gigabytes"]) == (10, 1000)
    admin.ok("PUT", target, {"quota_set": {"backups": 1, "backup_gigabytes": 3}})
    vol = user.wait(user.create(2)["id"], "available")
    first = _make_backup(user, vol["id"])
    over = user.call("POST", "/backups", {"backup": {"volume_id": vol["id"]}})
    assert over.status_code == 413 and "backups" in over.text, over.text
    assert user.volume(vol["id"])["status"] == "available"
    quota = user.ok("GET", f"{target}?usage=true")["quota_set"]
    assert quota["backups"] == {"limit": 1, "in_use": 1, "reserved": 0, "allocated": 0}
    assert quota["backup_gigabytes"]["in_use"] == 2
    absolute = user.ok("GET", "/limits")["limits"]["absolute"]
    assert (absolute["maxTotalBackups"], absolute["totalBackupsUsed"], absolute["maxTotalBackupGigabytes"],
            absolute["totalBackupGigabytesUsed"]) == (1, 1, 3, 2)
    admin.ok("PUT", target, {"quota_set": {"backups": 5}})
    too_big = user.call("POST", "/backups", {"backup": {"volume_id": vol["id"]}})
    assert too_big.status_code == 413 and "backup_gigabytes" in too_big.text
    # A restore to a new volume counts against the volume quotas.
    admin.ok("PUT", target, {"quota_set": {"volumes": 1}})
    over_volumes = user.call("POST", f"/backups/{first['id']}/restore", {"restore": None})
    assert over_volumes.status_code == 413 and "volumes" in over_volumes.text
    assert _backup(user, first["id"])["status"] == "available"
    admin.ok("DELETE", target)
    _delete_backup(user, first["id"])
    user.ok("DELETE", f"/volumes/{vol['id']}")


def test_admin_actions_export_and_import(cloud: Cloud, member: Api, admin: Api) -> None:
    """Tempest's admin tests: reset status, export and import under a new id, restore; force delete."""
    vol = member.wait(member.create(1)["id"], "available")
    _write(cloud, vol["id"], 0, b"exported")
    backup = _make_backup(member, vol["id"], name="exp")
    action = f"/backups/{backup['id']}/action"
    assert member.call("POST", action, {"os-reset_status": {"status": "error"}}).status_code == 403
    assert admin.call("POST", action, {"os-reset_status": {"status": "creating"}}).status_code == 400
    assert admin.call("POST", action, {"os-reset_status": {}}).status_code == 400
    admin.ok("POST", action, {"os-reset_status": {"status": "error"}}, status=202)
    assert _backup(member, backup["id"])["status"] == "error"
    assert admin.call("GET", f"/backups/{backup['id']}/export_record").status_code == 400  # not available
    admin.ok("POST", action, {"os-reset_status": {"status": "available"}}, status=202)

    assert member.call("GET", f"/backups/{backup['id']}/export_record").status_code == 403
    record = admin.ok("GET", f"/backups/{backup['id']}/export_record")["backup-record"]
    assert record["backup_service"].startswith("cinder.backup.drivers")
    import base64
    import json

    data = json.loads(base64.b64decode(record["backup_url"]))
    data["id"] = new_id = str(uuid.uuid4())
    new_url = base64.b64encode(json.dumps(data).encode()).decode()
    assert member.call("POST", "/backups/import_record", {"backup-record": {
        "backup_service": record["backup_service"], "backup_url": new_url}}).status_code == 403
    for bad in ({"backup-record": {"backup_service": record["backup_service"], "backup_url": "not base64!"}},
                {"backup-record": {"backup_service": "cinder.backup.drivers.swift", "backup_url": new_url}},
                {"backup-record": {"backup_url": new_url}}):
        assert admin.call("POST", "/backups/import_record", bad).status_code == 400, bad
    same = admin.call("POST", "/backups/import_record", {"backup-record": record})
    assert same.status_code == 409, same.text
    imported = admin.call("POST", "/backups/import_record", {"backup-record": {
        "backup_service": record["backup_service"], "backup_url": new_url}})
    assert imported.status_code == 201 and imported.json()["backup"]["id"] == new_id, imported.text
    _wait_backup(admin, new_id, "available")
    assert new_id in [b["id"] for b in admin.ok("GET", "/backups")["backups"]]
    restored = admin.ok("POST", f"/backups/{new_id}/restore", {"restore": None}, status=202)["restore"]
    admin.wait(restored["volume_id"], "available")
    assert _read(cloud, restored["volume_id"], 0, 8) == b"exported"

    # Both records name one file: it goes with the last of them.
    path = os.path.join(_backup_dir(cloud), f"backup-{backup['id']}")
    _delete_backup(admin, new_id)
    assert os.path.exists(path)
    # os-force_delete (admins) deletes whatever the status.
    admin.ok("POST", action, {"os-reset_status": {"status": "error"}}, status=202)
    assert member.call("POST", action, {"os-force_delete": {}}).status_code == 403
    admin.ok("POST", action, {"os-force_delete": {}}, status=202)
    member.gone(f"/backups/{backup['id']}")
    assert not os.path.exists(path)
    admin.ok("DELETE", f"/volumes/{restored['volume_id']}")
    member.ok("DELETE", f"/volumes/{vol['id']}")


def test_interrupted_backups_are_settled_at_start(cloud: Cloud, member: Api) -> None:
    """A manager that stopped mid-backup: the backup is error (its volume back to available); mid-restore: the
    backup is available again and the volume error_restoring."""
    from nubis.volume import manager_service

    vol = member.wait(member.create(1)["id"], "available")
    backup = _make_backup(member, vol["id"])
    target = member.wait(member.create(1)["id"], "available")
    runtime = cloud.aio.runtime
    assert runtime is not None
    with runtime.database("volume").writer() as s:  # as if the manager died in the middle of both
        s.execute(sa.text("UPDATE volume SET status = 'backing-up' WHERE id = :i"), {"i": vol["id"]})
        s.execute(sa.text("UPDATE backup SET status = 'creating', provider_location = NULL, source_status = "
                          "'available' WHERE id = :i"), {"i": backup["id"]})
    manager_service.build_manager(runtime).recover()
    shown = _backup(member, backup["id"])
    assert shown["status"] == "error" and "stopped" in shown["fail_reason"]
    assert member.volume(vol["id"])["status"] == "available"
    assert not os.path.exists(os.path.join(_backup_dir(cloud), f"backup-{backup['id']}"))
    _delete_backup(member, backup["id"])  # an error backup goes

    good = _make_backup(member, vol["id"])
    with runtime.database("volume").writer() as s:
        s.execute(sa.text("UPDATE volume SET status = 'restoring-backup' WHERE id = :i"), {"i": target["id"]})
        s.execute(sa.text("UPDATE backup SET status = 'restoring', restore_volume_id = :v WHERE id = :i"),
                  {"i": good["id"], "v": target["id"]})
    manager_service.build_manager(runtime).recover()
    assert _backup(member, good["id"])["status"] == "available"
    assert member.volume(target["id"])["status"] == "error_restoring"
    _delete_backup(member, good["id"])
    for volume_id in (vol["id"], target["id"]):
        member.ok("DELETE", f"/volumes/{volume_id}")
        member.gone(f"/volumes/{volume_id}")


def test_admin_backup_is_the_admins_and_notifications_are_sent(cloud: Cloud, member: Api, admin: Api) -> None:
    """As Cinder's: an admin's backup of a project's volume belongs to the admin's project; the manager announces
    backup.create.end and backup.delete.end (Cinder's payload) once it has recorded them."""
    from tests.functional.metering.test_billing import Notes, listening

    notes = Notes()
    vol = member.wait(member.create(1)["id"], "available")
    with listening(cloud, notes, "volume-backup-test"):
        backup = _make_backup(admin, vol["id"])
        assert member.call("GET", f"/backups/{backup['id']}").status_code == 404
        assert _backup(admin, backup["id"], "3.18")["os-backup-project-attr:project_id"] == admin.project_id
        _delete_backup(admin, backup["id"])

        def sent(event: str) -> list[dict[str, Any]]:
            with notes.lock:
                return [p for e, p, _ in notes.seen if e == event and p.get("backup_id") == backup["id"]]

        fixtures.wait_until(lambda: sent("backup.delete.end"), timeout=30, what="backup.delete.end")
    (created,) = sent("backup.create.end")
    assert (created["volume_id"], created["size"], created["status"], created["tenant_id"]) == (
        vol["id"], 1, "available", admin.project_id)
    assert sent("backup.delete.end")[0]["status"] == "deleted"
    member.ok("DELETE", f"/volumes/{vol['id']}")
