"""The volume service through its HTTP API: versions, the catalog, volumes on the file backend, types,
quotas, limits, snapshots, attach state, recovery of interrupted work, and the openstack CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests import fixtures
from tests.functional.cloud import Cloud, Credentials

GiB = 1024 ** 3


class Api:
    """Calls to ``/v3/{project}`` as one user."""

    def __init__(self, cloud: Cloud, creds: Credentials | None = None) -> None:
        conn = cloud.connection(creds)
        self.token = conn.session.get_token()
        self.project_id = conn.session.get_project_id()
        self.root = cloud.url("volume")
        self.base = f"{self.root}/v3/{self.project_id}"

    def call(self, method: str, path: str, body: Any = None, version: str | None = None,
             base: str | None = None) -> requests.Response:
        headers = {"X-Auth-Token": self.token}
        if version:
            headers["OpenStack-API-Version"] = f"volume {version}"
        return requests.request(method, (base or self.base) + path, json=body, headers=headers, timeout=30)

    def ok(self, method: str, path: str, body: Any = None, status: int | None = None) -> Any:
        resp = self.call(method, path, body)
        assert resp.status_code < 300 and (status is None or resp.status_code == status), \
            f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def volume(self, volume_id: str) -> dict[str, Any]:
        return self.ok("GET", f"/volumes/{volume_id}")["volume"]  # type: ignore[no-any-return]

    def wait(self, volume_id: str, status: str) -> dict[str, Any]:
        fixtures.wait_until(lambda: self.volume(volume_id)["status"] == status, timeout=30, interval=0.1,
                            what=f"volume {volume_id} to be {status}")
        return self.volume(volume_id)

    def create(self, size: int = 1, **extra: Any) -> dict[str, Any]:
        return self.ok("POST", "/volumes", {"volume": {"size": size, **extra}}, status=202)["volume"]  # type: ignore[no-any-return]

    def gone(self, path: str) -> None:
        fixtures.wait_until(lambda: self.call("GET", path).status_code == 404, timeout=30, interval=0.1,
                            what=f"{path} to be deleted")


def _file(cloud: Cloud, kind: str, ident: str) -> str:
    return os.path.join(cloud.aio.options.state_dir, "volumes", f"{kind}-{ident}")




def test_versions_and_microversions(cloud: Cloud, admin: Api) -> None:
    root = requests.get(cloud.url("volume") + "/", timeout=10)
    assert root.status_code == 300
    (v3,) = root.json()["versions"]
    assert (v3["id"], v3["min_version"], v3["version"]) == ("v3.0", "3.0", "3.60")
    assert requests.get(cloud.url("volume") + "/v3/", timeout=10).json()["versions"][0]["id"] == "v3.0"
    resp = admin.call("GET", "/volumes", version="3.60")
    assert resp.headers["OpenStack-API-Version"] == "volume 3.60"
    assert admin.call("GET", "/volumes").headers["OpenStack-API-Version"] == "volume 3.0"
    assert admin.call("GET", "/volumes", version="3.61").status_code == 406


def test_catalog_names_block_storage_for_the_project(cloud: Cloud, admin: Api) -> None:
    catalog = cloud.connection().session.auth.get_access(cloud.connection().session).service_catalog.catalog
    urls = {entry["type"]: entry["endpoints"][0]["url"] for entry in catalog}
    assert urls["block-storage"] == urls["volumev3"] == admin.base


def test_faults_in_cinder_format(cloud: Cloud, admin: Api, member: Api) -> None:
    missing = admin.call("GET", f"/volumes/{uuid.uuid4()}")
    assert missing.status_code == 404 and "itemNotFound" in missing.json(), missing.text
    bad = admin.call("POST", "/volumes", {"volume": {"size": "big"}})
    assert bad.status_code == 400 and "size" in bad.json()["badRequest"]["message"], bad.text
    no_size = admin.call("POST", "/volumes", {"volume": {"name": "x"}})
    assert no_size.status_code == 400 and "size" in no_size.text
    for wrong in ("0", "-1", "1.5", "9" * 12, ""):
        assert admin.call("POST", "/volumes", {"volume": {"size": wrong}}).status_code == 400, wrong
    # A size written as digits is taken, as Cinder takes it.
    as_text = admin.call("POST", "/volumes", {"volume": {"size": "1"}})
    assert as_text.status_code == 202 and as_text.json()["volume"]["size"] == 1, as_text.text
    # Another project's id in the URL: Cinder's "Malformed request url".
    assert member.call("GET", "/volumes", base=admin.base).status_code == 400
    assert admin.call("POST", "/volumes", {"volume": {"size": 1, "imageRef": str(uuid.uuid4())}}).status_code == 400
    assert admin.call("GET", "/volumes?limit=x").status_code == 400
    assert admin.call("GET", "/volumes?sort=secret:asc").status_code == 400


def test_volume_lifecycle_on_the_file_backend(cloud: Cloud, member: Api, admin: Api) -> None:
    made = member.create(1, name="data", description="d", metadata={"tier": "gold"})
    assert made["status"] == "creating" and made["volume_type"] == "__DEFAULT__"
    vol = member.wait(made["id"], "available")
    assert vol["size"] == 1 and vol["bootable"] == "false" and vol["availability_zone"] == "nova"
    assert vol["metadata"] == {"tier": "gold"} and vol["os-vol-tenant-attr:tenant_id"] == member.project_id
    assert "os-vol-host-attr:host" not in vol and "os-vol-host-attr:host" in admin.volume(vol["id"])
    path = _file(cloud, "volume", vol["id"])
    assert os.path.getsize(path) == GiB

    # Another project cannot see it.
    other = Api(cloud, cloud.new_user(["member"], prefix="other"))
    assert other.call("GET", f"/volumes/{vol['id']}").status_code == 404
    assert vol["id"] not in other.call("GET", "/volumes").text

    assert member.ok("PUT", f"/volumes/{vol['id']}", {"volume": {"name": "renamed"}})["volume"]["name"] == "renamed"
    assert member.ok("POST", f"/volumes/{vol['id']}/metadata", {"metadata": {"a": "1"}})["metadata"] == {
        "tier": "gold", "a": "1"}
    assert member.ok("GET", f"/volumes/{vol['id']}/metadata/a") == {"meta": {"a": "1"}}
    member.ok("DELETE", f"/volumes/{vol['id']}/metadata/a")
    assert member.ok("PUT", f"/volumes/{vol['id']}/metadata", {"metadata": {"b": "2"}})["metadata"] == {"b": "2"}
    assert member.call("GET", f"/volumes/{vol['id']}/metadata/a").status_code == 404

    smaller = member.call("POST", f"/volumes/{vol['id']}/action", {"os-extend": {"new_size": 1}})
    assert smaller.status_code == 400 and "greater than current size" in smaller.text
    member.ok("POST", f"/volumes/{vol['id']}/action", {"os-extend": {"new_size": 3}}, status=202)
    fixtures.wait_until(lambda: member.volume(vol["id"])["size"] == 3, timeout=30, what="the extend")
    assert member.volume(vol["id"])["status"] == "available" and os.path.getsize(path) == 3 * GiB

    member.ok("POST", f"/volumes/{vol['id']}/action", {"os-set_bootable": {"bootable": True}})
    assert member.volume(vol["id"])["bootable"] == "true"

    member.ok("DELETE", f"/volumes/{vol['id']}", status=202)
    member.gone(f"/volumes/{vol['id']}")
    assert not os.path.exists(path)


def test_listing_filters_sort_and_pages(member: Api) -> None:
    tag = uuid.uuid4().hex[:6]
    ids = [member.create(size, name=f"{tag}-{i}")["id"] for i, size in enumerate((1, 2, 1))]
    for volume_id in ids:
        member.wait(volume_id, "available")
    by_name = member.ok("GET", f"/volumes?name={tag}-1")["volumes"]
    assert [v["id"] for v in by_name] == [ids[1]] and set(by_name[0]) == {"id", "name", "links"}
    detail = member.ok("GET", "/volumes/detail?status=available&sort=size:desc,name:asc")["volumes"]
    ours = [v["id"] for v in detail if v["name"].startswith(tag)]
    assert ours == [ids[1], ids[0], ids[2]]
    first = member.ok("GET", "/volumes?limit=1&sort=created_at:asc")
    assert len(first["volumes"]) == 1 and first["volumes_links"][0]["rel"] == "next"
    after = member.ok("GET", f"/volumes?limit=1&sort=created_at:asc&marker={first['volumes'][0]['id']}")
    assert after["volumes"][0]["id"] != first["volumes"][0]["id"]
    assert member.call("GET", f"/volumes?marker={uuid.uuid4()}").status_code == 404
    for volume_id in ids:
        member.ok("DELETE", f"/volumes/{volume_id}")


def test_quotas_limits_and_zones(cloud: Cloud, admin: Api) -> None:
    creds = cloud.new_user(["member", "reader"], prefix="quota")
    user = Api(cloud, creds)
    target = f"/os-quota-sets/{user.project_id}"
    assert user.call("PUT", target, {"quota_set": {"volumes": 1}}).status_code == 403
    assert admin.ok("PUT", target, {"quota_set": {"volumes": 1, "gigabytes": 5}})["quota_set"]["volumes"] == 1
    assert admin.call("PUT", target, {"quota_set": {"bogus": 1}}).status_code == 400
    first = user.create(2)
    over = user.call("POST", "/volumes", {"volume": {"size": 1}})
    assert over.status_code == 413 and "volumes" in over.json()["overLimit"]["message"], over.text
    quota = user.ok("GET", f"{target}?usage=true")["quota_set"]
    assert quota["volumes"] == {"limit": 1, "in_use": 1, "reserved": 0, "allocated": 0}
    assert quota["gigabytes"]["in_use"] == 2
    absolute = user.ok("GET", "/limits")["limits"]["absolute"]
    assert (absolute["maxTotalVolumes"], absolute["totalVolumesUsed"], absolute["totalGigabytesUsed"]) == (1, 1, 2)
    user.wait(first["id"], "available")
    too_big = user.call("POST", f"/volumes/{first['id']}/action", {"os-extend": {"new_size": 6}})
    assert too_big.status_code == 413 and "gigabytes" in too_big.text
    assert user.ok("GET", f"{target}/defaults")["quota_set"]["volumes"] == 10
    admin.ok("DELETE", target)
    assert user.ok("GET", target)["quota_set"]["volumes"] == 10
    zones = user.ok("GET", "/os-availability-zone")["availabilityZoneInfo"]
    assert {"zoneName": "nova", "zoneState": {"available": True}} in zones
    assert user.call("POST", "/volumes", {"volume": {"size": 1, "availability_zone": "mars"}}).status_code == 400
    assert user.call("GET", "/os-services").status_code == 403
    (service,) = admin.ok("GET", "/os-services?binary=cinder-volume")["services"]
    assert (service["host"], service["state"], service["status"], service["zone"]) == (
        f"{cloud.aio.runtime.conf.host}@file", "up", "enabled", "nova")  # type: ignore[union-attr]
    user.ok("DELETE", f"/volumes/{first['id']}")


def test_full_backend_leaves_an_error_volume_and_no_file(cloud: Cloud, admin: Api) -> None:
    # Capacity 50 GiB x ratio 2: 150 GiB cannot fit.
    made = admin.create(150)
    vol = admin.wait(made["id"], "error")
    assert not os.path.exists(_file(cloud, "volume", vol["id"]))
    with cloud.aio.runtime.database("volume").reader() as s:  # type: ignore[union-attr]
        message = s.execute(sa.text("SELECT error_message FROM volume WHERE id = :i"), {"i": vol["id"]}).scalar()
    assert "insufficient free capacity for 150 GiB" in message
    admin.ok("DELETE", f"/volumes/{vol['id']}")
    admin.gone(f"/volumes/{vol['id']}")


def test_volume_types_and_extra_specs(cloud: Cloud, admin: Api, member: Api) -> None:
    name = f"fast-{uuid.uuid4().hex[:6]}"
    assert member.call("POST", "/types", {"volume_type": {"name": name}}).status_code == 403
    vtype = admin.ok("POST", "/types", {"volume_type": {"name": name, "extra_specs": {"volume_backend_name": "file"}}})[
        "volume_type"]
    assert vtype["extra_specs"] == {"volume_backend_name": "file"} and vtype["is_public"] is True
    assert admin.call("POST", "/types", {"volume_type": {"name": name}}).status_code == 409
    listed = {t["name"] for t in member.ok("GET", "/types")["volume_types"]}
    assert {"__DEFAULT__", name} <= listed
    admin.ok("POST", f"/types/{vtype['id']}/extra_specs", {"extra_specs": {"iops": "100"}})
    assert member.ok("GET", f"/types/{vtype['id']}/extra_specs/iops") == {"iops": "100"}
    admin.ok("PUT", f"/types/{vtype['id']}/extra_specs/iops", {"iops": "200"})
    admin.ok("DELETE", f"/types/{vtype['id']}/extra_specs/iops")
    assert admin.call("GET", f"/types/{vtype['id']}/extra_specs/iops").status_code == 404
    vol = member.create(1, volume_type=name)
    assert vol["volume_type"] == name
    assert admin.call("DELETE", f"/types/{vtype['id']}").status_code == 400  # in use
    member.wait(vol["id"], "available")
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")
    assert admin.ok("PUT", f"/types/{vtype['id']}", {"volume_type": {"description": "ssd"}})["volume_type"][
        "description"] == "ssd"
    admin.ok("DELETE", f"/types/{vtype['id']}", status=202)
    assert member.call("POST", "/volumes", {"volume": {"size": 1, "volume_type": name}}).status_code == 404


def test_snapshots_and_volume_from_snapshot(cloud: Cloud, member: Api) -> None:
    source = member.wait(member.create(1)["id"], "available")
    marker = b"nubis-marker-" + uuid.uuid4().hex.encode()
    with open(_file(cloud, "volume", source["id"]), "r+b") as f:
        f.seek(4096)
        f.write(marker)
    snap = member.ok("POST", "/snapshots", {"snapshot": {"volume_id": source["id"], "name": "s1"}}, status=202)[
        "snapshot"]
    fixtures.wait_until(lambda: member.ok("GET", f"/snapshots/{snap['id']}")["snapshot"]["status"] == "available",
                        timeout=30, what="the snapshot")
    assert snap["id"] in {s["id"] for s in member.ok("GET", "/snapshots/detail")["snapshots"]}
    assert member.ok("PUT", f"/snapshots/{snap['id']}", {"snapshot": {"name": "s2"}})["snapshot"]["name"] == "s2"
    # Later writes to the source do not reach the snapshot.
    with open(_file(cloud, "volume", source["id"]), "r+b") as f:
        f.seek(4096)
        f.write(b"X" * len(marker))

    clone = member.create(2, snapshot_id=snap["id"])
    assert clone["snapshot_id"] == snap["id"]
    clone = member.wait(clone["id"], "available")
    clone_path = _file(cloud, "volume", clone["id"])
    assert os.path.getsize(clone_path) == 2 * GiB
    with open(clone_path, "rb") as f:
        f.seek(4096)
        assert f.read(len(marker)) == marker
    assert member.call("POST", "/volumes", {"volume": {"size": 0, "snapshot_id": snap["id"]}}).status_code == 400

    held = member.call("DELETE", f"/volumes/{source['id']}")
    assert held.status_code == 400 and "dependent snapshots" in held.text
    member.ok("DELETE", f"/volumes/{clone['id']}")
    member.ok("DELETE", f"/snapshots/{snap['id']}", status=202)
    member.gone(f"/snapshots/{snap['id']}")
    assert not os.path.exists(_file(cloud, "snapshot", snap["id"]))

    # A cascade delete takes the snapshots with it.
    snap2 = member.ok("POST", "/snapshots", {"snapshot": {"volume_id": source["id"]}})["snapshot"]
    fixtures.wait_until(lambda: member.ok("GET", f"/snapshots/{snap2['id']}")["snapshot"]["status"] == "available",
                        timeout=30, what="the second snapshot")
    member.ok("DELETE", f"/volumes/{source['id']}?cascade=true", status=202)
    member.gone(f"/volumes/{source['id']}")
    member.gone(f"/snapshots/{snap2['id']}")
    assert not os.path.exists(_file(cloud, "snapshot", snap2["id"]))


def test_attach_state_actions(member: Api) -> None:
    vol = member.wait(member.create(1)["id"], "available")
    act = f"/volumes/{vol['id']}/action"
    server = str(uuid.uuid4())
    member.ok("POST", act, {"os-reserve": None}, status=202)
    assert member.volume(vol["id"])["status"] == "attaching"
    member.ok("POST", act, {"os-attach": {"instance_uuid": server, "mountpoint": "/dev/vdb"}})
    shown = member.volume(vol["id"])
    assert shown["status"] == "in-use" and shown["attachments"][0]["server_id"] == server
    assert shown["attachments"][0]["device"] == "/dev/vdb"
    again = member.call("POST", act, {"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdc"}})
    assert again.status_code == 409, again.text
    attached = member.call("DELETE", f"/volumes/{vol['id']}")
    assert attached.status_code == 400 and "attached" in attached.text
    member.ok("POST", act, {"os-begin_detaching": None})
    member.ok("POST", act, {"os-detach": {"attachment_id": shown["attachments"][0]["attachment_id"]}})
    assert member.volume(vol["id"])["status"] == "available" and member.volume(vol["id"])["attachments"] == []
    assert member.call("POST", act, {"os-frobnicate": {}}).status_code == 400
    for flag in (True, "false"):
        member.ok("POST", act, {"os-update_readonly_flag": {"readonly": flag}}, status=202)
        assert member.volume(vol["id"])["metadata"]["readonly"] == str(flag is True)
    assert member.call("POST", act, {"os-update_readonly_flag": {"readonly": "maybe"}}).status_code == 400
    member.ok("DELETE", f"/volumes/{vol['id']}")


def test_interrupted_create_ends_in_error(cloud: Cloud, member: Api) -> None:
    """A manager that stopped mid-create: at its next start the volume is error with a message, no file left."""
    from nubis.volume import manager_service

    vol = member.wait(member.create(1)["id"], "available")
    runtime = cloud.aio.runtime
    assert runtime is not None
    db = runtime.database("volume")
    with db.writer() as s:  # as if the manager died after the API's create, before finishing
        s.execute(sa.text("UPDATE volume SET status = 'creating', provider_location = NULL WHERE id = :i"),
                  {"i": vol["id"]})
    manager_service.build_manager(runtime).recover()
    shown = member.volume(vol["id"])
    assert shown["status"] == "error"
    assert not os.path.exists(_file(cloud, "volume", vol["id"]))
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")


def test_openstack_cli_volume_create_and_list(cloud: Cloud) -> None:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    made = cloud.openstack("volume", "create", "--size", "1", name)
    assert made["name"] == name and made["size"] == 1
    fixtures.wait_until(lambda: cloud.openstack("volume", "show", name)["status"] == "available", timeout=30,
                        what="the CLI's volume")
    assert name in {v["Name"] for v in cloud.openstack("volume", "list")}
    cloud.openstack("volume", "set", "--size", "2", name, json_output=False)
    fixtures.wait_until(lambda: cloud.openstack("volume", "show", name)["size"] == 2, timeout=30,
                        what="the CLI's extend")
    snap = cloud.openstack("volume", "snapshot", "create", "--volume", name, f"{name}-snap")
    fixtures.wait_until(lambda: cloud.openstack("volume", "snapshot", "show", snap["id"])["status"] == "available",
                        timeout=30, what="the CLI's snapshot")
    cloud.openstack("volume", "snapshot", "delete", snap["id"], json_output=False)
    assert "__DEFAULT__" in {t["Name"] for t in cloud.openstack("volume", "type", "list")}
    assert [s["Binary"] for s in cloud.openstack("volume", "service", "list")] == ["cinder-volume"]
    fixtures.wait_until(lambda: not cloud.openstack("volume", "snapshot", "list"), timeout=30,
                        what="the snapshot to go")
    cloud.openstack("volume", "delete", name, json_output=False)


def test_attachments_api(cloud: Cloud, member: Api, admin: Api) -> None:
    vol = member.wait(member.create(1)["id"], "available")
    server = str(uuid.uuid4())
    body = {"attachment": {"volume_uuid": vol["id"], "instance_uuid": server}}
    assert member.call("POST", "/attachments", body).status_code == 404  # before 3.27
    made = member.call("POST", "/attachments", body, version="3.27")
    assert made.status_code == 200, made.text
    attachment = made.json()["attachment"]
    assert (attachment["status"], attachment["instance"], attachment["connection_info"]) == ("reserved", server, {})
    assert member.volume(vol["id"])["status"] == "reserved"
    busy = member.call("POST", "/attachments", body, version="3.27")
    assert busy.status_code == 400 and "reserved" in busy.text

    path = f"/attachments/{attachment['id']}"
    connector = {"host": "compute-1", "initiator": "iqn.2026-12.org.nubis:compute-1"}
    updated = member.call("PUT", path, {"attachment": {"connector": connector}}, version="3.27").json()["attachment"]
    assert updated["status"] == "attaching" and updated["connection_info"]["driver_volume_type"] == "nbd"
    data = updated["connection_info"]["data"]
    assert _nbd_size(data) == GiB  # a real export: qemu's NBD client reads the volume from it
    assert member.call("POST", f"{path}/action", {"os-complete": {}}, version="3.43").status_code == 404
    assert member.call("POST", f"{path}/action", {"os-complete": {}}, version="3.44").status_code == 204
    shown = member.volume(vol["id"])
    assert shown["status"] == "in-use" and shown["attachments"][0]["attachment_id"] == attachment["id"]
    assert shown["attachments"][0]["host_name"] == "compute-1"
    listed = member.call("GET", "/attachments/detail", version="3.27").json()["attachments"]
    assert attachment["id"] in {a["id"] for a in listed}
    # Cinder's attachment filters: volume_id, instance_id, status (attach_status).
    other = member.call("POST", "/attachments", {"attachment": {"volume_uuid": member.wait(
        member.create(1)["id"], "available")["id"], "instance_uuid": str(uuid.uuid4())}}, version="3.27")
    assert other.status_code == 200, other.text
    for query, expected in ((f"volume_id={vol['id']}", [attachment["id"]]),
                            (f"instance_id={server}", [attachment["id"]]),
                            ("status=reserved", [other.json()["attachment"]["id"]]),
                            ("attach_status=attached", [attachment["id"]]),
                            (f"volume_id={vol['id']}&status=reserved", [])):
        for kind in ("", "/detail"):
            found = member.call("GET", f"/attachments{kind}?{query}", version="3.27").json()["attachments"]
            assert [a["id"] for a in found] == expected, (query, found)
    member.call("DELETE", f"/attachments/{other.json()['attachment']['id']}", version="3.27")
    member.ok("DELETE", f"/volumes/{other.json()['attachment']['volume_id']}")
    assert member.call("DELETE", f"/volumes/{vol['id']}").status_code == 400  # attached
    assert member.call("DELETE", path, version="3.27").json() == {"attachments": []}
    assert member.volume(vol["id"])["status"] == "available"
    assert member.call("GET", path, version="3.27").status_code == 404
    _wait_unexported(cloud, vol["id"], data)
    member.ok("DELETE", f"/volumes/{vol['id']}")


def _nbd_size(data: dict[str, Any]) -> int | None:
    """The virtual size qemu-img reads from an NBD export, None when it cannot connect."""
    proc = subprocess.run(["qemu-img", "info", "--output=json", "-f", "raw",
                           f"nbd://{data['host']}:{data['port']}/{data['name']}"],
                          capture_output=True, text=True, timeout=30, check=False)
    return int(json.loads(proc.stdout)["virtual-size"]) if proc.returncode == 0 else None


def _wait_unexported(cloud: Cloud, volume_id: str, data: dict[str, Any]) -> None:
    fixtures.wait_until(lambda: not os.path.exists(_file(cloud, "export", volume_id) + ".json"), timeout=30,
                        interval=0.1, what="the export's removal")
    assert _nbd_size(data) is None


def test_export_survives_a_manager_restart_and_goes_with_the_volume(cloud: Cloud, member: Api) -> None:
    """The legacy os-initialize_connection flow; a restarted manager exports attached volumes again (the old
    daemon killed as a crash would), removes exports nothing connects to, and a deleted volume leaves none."""
    from nubis.volume import manager_service

    vol = member.wait(member.create(1)["id"], "available")
    act = f"/volumes/{vol['id']}/action"
    assert member.call("POST", act, {"os-initialize_connection": {}}).status_code == 400  # no connector
    info = member.ok("POST", act, {"os-initialize_connection": {"connector": {"host": "c1"}}})["connection_info"]
    assert info["driver_volume_type"] == "nbd" and _nbd_size(info["data"]) == GiB
    runtime = cloud.aio.runtime
    assert runtime is not None
    manager_service.build_manager(runtime).recover()  # nothing attached: the stray export goes
    assert _nbd_size(info["data"]) is None

    attachment = member.call("POST", "/attachments", {"attachment": {
        "volume_uuid": vol["id"], "instance_uuid": str(uuid.uuid4()), "connector": {"host": "c1"}}},
        version="3.44").json()["attachment"]
    data = attachment["connection_info"]["data"]
    with open(_file(cloud, "export", vol["id"]) + ".json") as f:
        os.kill(json.load(f)["pid"], signal.SIGKILL)
    fixtures.wait_until(lambda: _nbd_size(data) is None, timeout=10, what="the daemon to die")
    manager_service.build_manager(runtime).recover()
    assert _nbd_size(data) == GiB  # same address again: the guest's disk definition still holds
    assert member.call("POST", f"/attachments/{attachment['id']}/action", {"os-complete": {}},
                       version="3.44").status_code == 204
    member.call("DELETE", f"/attachments/{attachment['id']}", version="3.44")
    _wait_unexported(cloud, vol["id"], data)
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")
    assert not os.path.exists(_file(cloud, "volume", vol["id"]))


def test_volume_from_volume(cloud: Cloud, member: Api) -> None:
    source = member.wait(member.create(1)["id"], "available")
    with open(_file(cloud, "volume", source["id"]), "r+b") as f:
        f.seek(8192)
        f.write(b"cloned-data")
    both = member.call("POST", "/volumes", {"volume": {"source_volid": source["id"], "snapshot_id": str(uuid.uuid4())}})
    assert both.status_code == 400
    assert member.call("POST", "/volumes", {"volume": {"source_volid": str(uuid.uuid4())}}).status_code == 404
    clone = member.ok("POST", "/volumes", {"volume": {"source_volid": source["id"]}}, status=202)["volume"]
    assert clone["size"] == 1 and clone["source_volid"] == source["id"]
    member.wait(clone["id"], "available")
    with open(_file(cloud, "volume", clone["id"]), "rb") as f:
        f.seek(8192)
        assert f.read(11) == b"cloned-data"
    for volume_id in (clone["id"], source["id"]):
        member.ok("DELETE", f"/volumes/{volume_id}")
        member.gone(f"/volumes/{volume_id}")


def _upload_image(cloud: Cloud, admin: Api, data_path: str, disk_format: str) -> str:
    images = cloud.url("image")
    headers = {"X-Auth-Token": admin.token}
    image = requests.post(f"{images}/v2/images", headers=headers, timeout=30, json={
        "name": f"vol-src-{uuid.uuid4().hex[:6]}", "disk_format": disk_format, "container_format": "bare",
        "visibility": "public", "hw_disk_bus": "virtio"}).json()
    with open(data_path, "rb") as f:
        resp = requests.put(f"{images}/v2/images/{image['id']}/file", data=f, timeout=60,
                            headers={**headers, "Content-Type": "application/octet-stream"})
    assert resp.status_code == 204, resp.text
    return str(image["id"])


@pytest.mark.parametrize("disk_format", ["raw", "qcow2"])
def test_volume_from_image(cloud: Cloud, admin: Api, member: Api, tmp_path: Any, disk_format: str) -> None:
    import subprocess

    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\0" * 65536 + b"image-marker" + b"\0" * (1024 * 1024 - 65548))
    data = raw
    if disk_format == "qcow2":
        data = tmp_path / "disk.qcow2"
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(data)], check=True)
    image_id = _upload_image(cloud, admin, str(data), disk_format)
    made = member.ok("POST", "/volumes", {"volume": {"imageRef": image_id}}, status=202)["volume"]
    assert made["size"] == 1 and made["bootable"] == "true"
    vol = member.wait(made["id"], "available")
    meta = vol["volume_image_metadata"]
    assert (meta["image_id"], meta["disk_format"], meta["hw_disk_bus"]) == (image_id, disk_format, "virtio")
    path = _file(cloud, "volume", vol["id"])
    assert os.path.getsize(path) == GiB
    with open(path, "rb") as f:
        f.seek(65536)
        assert f.read(12) == b"image-marker"
    assert not [n for n in os.listdir(os.path.dirname(path)) if n.startswith(".image-")]  # download removed
    assert member.call("POST", "/volumes", {"volume": {"imageRef": str(uuid.uuid4())}}).status_code == 400
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")
