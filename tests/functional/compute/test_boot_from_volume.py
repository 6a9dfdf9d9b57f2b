"""Boot from volume over HTTP (Nova's ``block_device_mapping_v2``): compute, the volume service (file backend, NBD
exports) and a fake compute host that records the root disk it was given."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import CONFIG, SERVICES, wait_for_status
from tests.functional.compute.test_volume_attachments import Calls, _driver, _nbd_size
from tools import ports

GiB = 1024 ** 3
QUOTA_GIGABYTES = 40
# The storage host offers 1 GiB x 20 (Cinder's over-subscription ratio): a 30 GiB volume fits the quota, not the host.
TOO_BIG_FOR_THE_HOST = 30


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory) -> Iterator[cloud_fixture.Cloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("bfv")
    nbd = ports.free_offset([0, 19])
    with fixtures.backend_config(request.param, str(tmp)) as backend:
        extra = {**CONFIG, **backend,
                 "compute": {**CONFIG["compute"], "block_device_allocate_retries": "20",
                             "block_device_allocate_retries_interval": "1"},
                 "volume": {"report_interval": "1", "nbd_port_min": str(nbd), "nbd_port_max": str(nbd + 19),
                            "quota_gigabytes": str(QUOTA_GIGABYTES), "file_capacity_gb": "1"}}
        with cloud_fixture.running_cloud(tmp, [*SERVICES, "volume", "volume-manager"], extra_config=extra) as c:
            yield c


@pytest.fixture(scope="module")
def image_id(cloud: cloud_fixture.Cloud) -> str:
    image = cloud.connection().image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                                  data=b"\1" * 4096, visibility="public")
    return str(image.id)


@pytest.fixture(scope="module")
def flavor_id(cloud: cloud_fixture.Cloud) -> str:
    return str(cloud.connection().compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1).id)


class Boot(Calls):
    """The calls of ``test_volume_attachments`` plus boots with block device mappings."""

    def boot(self, flavor_id: str, bdms: list[dict[str, Any]] | None = None, legacy: list[dict[str, Any]] | None = None,
             version: str = "compute 2.79", **extra: Any) -> requests.Response:
        server: dict[str, Any] = {"name": f"bfv-{uuid.uuid4().hex[:6]}", "flavorRef": flavor_id, "imageRef": "",
                                  **({"networks": "none"} if version >= "compute 2.37" else {}), **extra}
        if bdms is not None:
            server["block_device_mapping_v2"] = bdms
        if legacy is not None:
            server["block_device_mapping"] = legacy
        return self.call("POST", f"{self.compute}/servers", {"server": server}, version)

    def bootable_volume(self) -> str:
        """A blank volume marked bootable (Cinder makes blank volumes not bootable; Nova boots only bootable ones)."""
        volume_id = self.new_volume()
        marked = self.call("POST", f"{self.volume}/volumes/{volume_id}/action", {"os-set_bootable": {"bootable": True}})
        assert marked.status_code == 200, marked.text
        return volume_id

    def server(self, server_id: str, version: str = "compute 2.79") -> dict[str, Any]:
        return self.call("GET", f"{self.compute}/servers/{server_id}", version=version).json()["server"]  # type: ignore[no-any-return]

    def volumes(self) -> list[dict[str, Any]]:
        return self.call("GET", f"{self.volume}/volumes/detail").json()["volumes"]  # type: ignore[no-any-return]

    def gone(self, volume_id: str) -> bool:
        return self.call("GET", f"{self.volume}/volumes/{volume_id}").status_code == 404

    def delete_server(self, server_id: str) -> None:
        assert self.call("DELETE", f"{self.compute}/servers/{server_id}").status_code == 204
        fixtures.wait_until(lambda: self.call("GET", f"{self.compute}/servers/{server_id}").status_code == 404,
                            timeout=30, what="the server to go")


def _root(volume_id: str | None = None, source: str = "volume", **extra: Any) -> dict[str, Any]:
    return {"boot_index": 0, "source_type": source, "destination_type": "volume",
            **({"uuid": volume_id} if volume_id else {}), **extra}


def _data(uuid_: str | None = None, source: str = "volume", **extra: Any) -> dict[str, Any]:
    """A data volume's mapping (no boot_index, as Nova's clients send them)."""
    return {"source_type": source, "destination_type": "volume", **({"uuid": uuid_} if uuid_ else {}), **extra}


def _active(cloud: cloud_fixture.Cloud, made: requests.Response) -> str:
    assert made.status_code == 202, made.text
    server_id = str(made.json()["server"]["id"])
    wait_for_status(cloud.connection(), server_id, "ACTIVE")
    return server_id


def _root_disk(cloud: cloud_fixture.Cloud, server_id: str) -> dict[str, Any]:
    disks = _driver(cloud).volumes[server_id]
    assert list(disks) == ["/dev/vda"]
    assert _driver(cloud).specs[server_id].root_volume == disks["/dev/vda"]
    return dict(disks["/dev/vda"])


def _stable_device_rescue(cloud: cloud_fixture.Cloud, c: Boot, server_id: str, plain_image: str) -> None:
    """A volume-backed server is rescued only from 2.87, and only from an image for stable-device rescue (Nova's
    400 InstanceNotRescuable otherwise); it then boots the rescue image with its volumes in place."""
    action = f"{c.compute}/servers/{server_id}/action"
    old = c.call("POST", action, {"rescue": {"rescue_image_ref": plain_image}}, "compute 2.86")
    assert old.status_code == 400 and "Cannot rescue a volume-backed instance" in old.text, old.text
    plain = c.call("POST", action, {"rescue": {"rescue_image_ref": plain_image}}, "compute 2.87")
    assert plain.status_code == 400 and "hw_rescue_device" in plain.text, plain.text
    no_image = c.call("POST", action, {"rescue": {}}, "compute 2.87")
    assert no_image.status_code == 400 and "rescue_image_ref" in no_image.text, no_image.text
    rescue_image = cloud.connection().image.create_image(
        name="rescue", disk_format="raw", container_format="bare", data=b"\2" * 4096, visibility="public",
        hw_rescue_device="disk", hw_rescue_bus="virtio")
    try:
        rescued = c.call("POST", action, {"rescue": {"rescue_image_ref": rescue_image.id}}, "compute 2.87")
        assert rescued.status_code == 200, rescued.text
        wait_for_status(cloud.connection(), server_id, "RESCUE")
        assert _driver(cloud).rescued[server_id] == rescue_image.id
        assert list(_driver(cloud).volumes[server_id]) == ["/dev/vda"]  # the root volume stays attached
        unrescued = c.call("POST", action, {"unrescue": None}, "compute 2.87")
        assert unrescued.status_code == 202, unrescued.text
        wait_for_status(cloud.connection(), server_id, "ACTIVE")
        assert server_id not in _driver(cloud).rescued
    finally:
        cloud.connection().image.delete_image(rescue_image)


def test_boot_from_existing_volume(cloud: cloud_fixture.Cloud, flavor_id: str, image_id: str) -> None:
    c = Boot(cloud)
    volume_id = c.bootable_volume()
    server_id = _active(cloud, c.boot(flavor_id, [_root(volume_id, delete_on_termination=False)]))

    # The fake host got the volume's real export as the guest's vda: qemu's NBD client reads its 1 GiB.
    disk = _root_disk(cloud, server_id)
    assert disk["driver_volume_type"] == "nbd" and _nbd_size(disk["data"]) == GiB
    assert _driver(cloud).specs[server_id].image_ref == ""
    shown = c.server(server_id)
    assert shown["image"] == ""
    assert shown["os-extended-volumes:volumes_attached"] == [{"id": volume_id, "delete_on_termination": False}]
    volume = c.vol(volume_id)
    assert volume["status"] == "in-use" and volume["attachments"][0]["server_id"] == server_id
    assert volume["attachments"][0]["device"] == "/dev/vda"
    listed = c.call("GET", f"{c.compute}/servers/{server_id}/os-volume_attachments").json()["volumeAttachments"]
    assert [(a["volumeId"], a["device"]) for a in listed] == [(volume_id, "/dev/vda")]

    # The root volume stays (400 on detach, as Nova); what needs an image-backed guest is refused (409).
    detach = c.call("DELETE", f"{c.compute}/servers/{server_id}/os-volume_attachments/{volume_id}")
    assert detach.status_code == 400 and "root volume" in detach.text
    for action in ({"resize": {"flavorRef": flavor_id}}, {"rebuild": {"imageRef": str(uuid.uuid4())}},
                   {"shelve": None}, {"migrate": None},
                   {"os-migrateLive": {"host": None, "block_migration": "auto"}}):
        refused = c.call("POST", f"{c.compute}/servers/{server_id}/action", action, "compute 2.30")
        assert refused.status_code == 409, (action, refused.text)
        assert "not supported yet" in refused.text, (action, refused.text)
    _stable_device_rescue(cloud, c, server_id, image_id)
    # Nova refuses a backup of a volume-backed server for good: 400.
    backup = c.call("POST", f"{c.compute}/servers/{server_id}/action",
                    {"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}})
    assert backup.status_code == 400 and "Backup is not supported for volume-backed" in backup.text, backup.text
    # A volume attached later still takes vdb.
    data_volume = c.new_volume()
    attached = c.attach(server_id, data_volume)
    assert attached.status_code == 200 and attached.json()["volumeAttachment"]["device"] == "/dev/vdb"

    # createImage, as Nova makes it of a volume-backed server: each volume snapshotted, an active image of no
    # data whose block_device_mapping names the snapshots.
    made = c.call("POST", f"{c.compute}/servers/{server_id}/action", {"createImage": {"name": "snap"}}, "compute 2.79")
    assert made.status_code == 202, made.text
    image = cloud.connection().image.get_image(made.json()["image_id"])
    assert (image.status, image.size, image.disk_format) == ("active", 0, "raw")
    assert image.properties["bdm_v2"] == "True" and image.properties["root_device_name"] == "/dev/vda"
    mapping = json.loads(image.properties["block_device_mapping"])
    assert [(m["boot_index"], m["device_name"], m["source_type"], m["volume_size"]) for m in mapping] == [
        (0, "/dev/vda", "snapshot", 1), (None, "/dev/vdb", "snapshot", 1)]
    for m, volume in zip(mapping, (volume_id, data_volume), strict=True):
        snap = c.call("GET", f"{c.volume}/snapshots/{m['snapshot_id']}").json()["snapshot"]
        assert snap["volume_id"] == volume and snap["name"] == "snapshot for snap"
        fixtures.wait_until(lambda m=m: c.call("GET", f"{c.volume}/snapshots/{m['snapshot_id']}").json()[
            "snapshot"]["status"] == "available", timeout=30, what="the snapshot")
    # Booting the image makes each snapshot a new volume: the root (vda) and the data volume at its device (vdb).
    before = {v["id"] for v in c.volumes()}
    again = _active(cloud, c.call("POST", f"{c.compute}/servers", {"server": {
        "name": "again", "flavorRef": flavor_id, "imageRef": image.id, "networks": "none"}}, "compute 2.79"))
    made_again = {v["snapshot_id"]: v for v in c.volumes() if v["id"] not in before}
    assert set(made_again) == {m["snapshot_id"] for m in mapping}
    assert all(v["status"] == "in-use" and v["size"] == 1 for v in made_again.values())
    listed = c.call("GET", f"{c.compute}/servers/{again}/os-volume_attachments").json()["volumeAttachments"]
    assert [(a["volumeId"], a["device"]) for a in listed] == [
        (made_again[m["snapshot_id"]]["id"], m["device_name"]) for m in mapping]
    disks = _driver(cloud).volumes[again]
    assert sorted(disks) == ["/dev/vda", "/dev/vdb"] and all(_nbd_size(d["data"]) == GiB for d in disks.values())
    assert _driver(cloud).specs[again].root_volume == disks["/dev/vda"]
    assert c.server(again)["image"] == ""
    c.delete_server(again)  # the mapping kept delete_on_termination false: the new volumes stay, available
    for v in made_again.values():
        fixtures.wait_until(lambda v=v: c.vol(v["id"])["status"] == "available", timeout=30, what="the volume")
        assert c.call("DELETE", f"{c.volume}/volumes/{v['id']}").status_code == 202
        fixtures.wait_until(lambda v=v: c.gone(v["id"]), timeout=30, what="the volume to go")
    cloud.connection().image.delete_image(image.id)
    for m in mapping:
        assert c.call("DELETE", f"{c.volume}/snapshots/{m['snapshot_id']}").status_code == 202
        fixtures.wait_until(lambda m=m: c.call("GET", f"{c.volume}/snapshots/{m['snapshot_id']}").status_code == 404,
                            timeout=30, what="the snapshot to go")

    # delete_on_termination false: the root volume is available again once the server is gone.
    c.delete_server(server_id)
    for kept in (volume_id, data_volume):
        fixtures.wait_until(lambda kept=kept: c.vol(kept)["status"] == "available", timeout=30,
                            what="the volume to be given back")
        assert c.vol(kept)["attachments"] == []
    fixtures.wait_until(lambda: _nbd_size(disk["data"]) == 0, timeout=10, what="the export to go")
    assert c.call("DELETE", f"{c.volume}/volumes/{volume_id}").status_code == 202
    assert c.call("DELETE", f"{c.volume}/volumes/{data_volume}").status_code == 202


@pytest.mark.parametrize("source", ["image", "snapshot", "blank"])
def test_boot_from_a_volume_made_for_the_server(cloud: cloud_fixture.Cloud, flavor_id: str, image_id: str,
                                                source: str) -> None:
    c = Boot(cloud)
    before = {v["id"] for v in c.volumes()}
    origin = None
    if source == "image":
        origin = image_id
    elif source == "snapshot":
        base = c.new_volume()
        snap = c.call("POST", f"{c.volume}/snapshots", {"snapshot": {"volume_id": base}}).json()["snapshot"]
        fixtures.wait_until(lambda: c.call("GET", f"{c.volume}/snapshots/{snap['id']}").json()["snapshot"]["status"]
                            == "available", timeout=30, what="the snapshot")
        origin = snap["id"]
        before.add(base)
    server_id = _active(cloud, c.boot(flavor_id, [_root(origin, source, volume_size=2,
                                                        delete_on_termination=True)]))
    made = [v for v in c.volumes() if v["id"] not in before]
    assert len(made) == 1, made
    volume = made[0]
    assert volume["size"] == 2 and volume["status"] == "in-use"
    assert volume["attachments"][0]["server_id"] == server_id
    if source == "image":
        assert volume["bootable"] == "true" and volume["volume_image_metadata"]["image_id"] == image_id
    disk = _root_disk(cloud, server_id)
    assert _nbd_size(disk["data"]) == 2 * GiB
    shown = c.server(server_id)
    assert shown["image"] == ""
    assert shown["os-extended-volumes:volumes_attached"] == [{"id": volume["id"], "delete_on_termination": True}]

    # delete_on_termination: the volume goes with its server.
    c.delete_server(server_id)
    fixtures.wait_until(lambda: c.gone(volume["id"]), timeout=30, what="the root volume to go with its server")
    if source == "snapshot":
        assert c.call("DELETE", f"{c.volume}/snapshots/{origin}").status_code == 202
        fixtures.wait_until(lambda: c.call("GET", f"{c.volume}/snapshots/{origin}").status_code == 404, timeout=30,
                            what="the snapshot to go")
        assert c.call("DELETE", f"{c.volume}/volumes/{base}").status_code == 202


def test_an_image_of_a_volume_backed_server_boots_from_its_snapshot(cloud: cloud_fixture.Cloud,
                                                                     flavor_id: str) -> None:
    c = Boot(cloud)
    origin = _active(cloud, c.boot(flavor_id, [_root(c.bootable_volume(), delete_on_termination=True)]))
    made = c.call("POST", f"{c.compute}/servers/{origin}/action", {"createImage": {"name": "golden"}}, "compute 2.79")
    assert made.status_code == 202, made.text
    image_id = made.json()["image_id"]
    snapshot_id = json.loads(cloud.connection().image.get_image(image_id).properties["block_device_mapping"])[0][
        "snapshot_id"]
    fixtures.wait_until(lambda: c.call("GET", f"{c.volume}/snapshots/{snapshot_id}").json()["snapshot"]["status"]
                        == "available", timeout=30, what="the snapshot")
    before = {v["id"] for v in c.volumes()}

    # imageRef alone: the server is volume-backed, its root a new volume of the image's snapshot.
    server_id = _active(cloud, c.call("POST", f"{c.compute}/servers", {"server": {
        "name": "from-golden", "flavorRef": flavor_id, "imageRef": image_id, "networks": "none"}}, "compute 2.79"))
    volume = next(v for v in c.volumes() if v["id"] not in before)
    assert volume["snapshot_id"] == snapshot_id and volume["size"] == 1 and volume["status"] == "in-use"
    assert _nbd_size(_root_disk(cloud, server_id)["data"]) == GiB
    assert c.server(server_id)["os-extended-volumes:volumes_attached"] == [{"id": volume["id"],
                                                                             "delete_on_termination": True}]
    for server in (server_id, origin):
        c.delete_server(server)
    fixtures.wait_until(lambda: c.gone(volume["id"]), timeout=30, what="the new root volume to go with its server")
    cloud.connection().image.delete_image(image_id)
    assert c.call("DELETE", f"{c.volume}/snapshots/{snapshot_id}").status_code == 202


def test_legacy_block_device_mapping(cloud: cloud_fixture.Cloud, flavor_id: str) -> None:
    c = Boot(cloud)
    volume_id = c.bootable_volume()
    server_id = _active(cloud, c.boot(flavor_id, legacy=[{"device_name": "vda", "volume_id": volume_id,
                                                          "delete_on_termination": True}], version="compute 2.1"))
    assert _nbd_size(_root_disk(cloud, server_id)["data"]) == GiB
    assert c.server(server_id, "compute 2.1")["os-extended-volumes:volumes_attached"] == [{"id": volume_id}]
    c.delete_server(server_id)
    fixtures.wait_until(lambda: c.gone(volume_id), timeout=30, what="the delete_on_termination volume to go")


def test_a_volume_that_ends_in_error_fails_the_build_cleanly(cloud: cloud_fixture.Cloud, flavor_id: str) -> None:
    c = Boot(cloud)
    # No storage host has room for it: the volume service records the volume in error.
    before = {v["id"] for v in c.volumes()}
    made = c.boot(flavor_id, [_root(None, "blank", volume_size=TOO_BIG_FOR_THE_HOST)])
    assert made.status_code == 202, made.text
    server_id = made.json()["server"]["id"]
    wait_for_status(cloud.connection(), server_id, "ERROR")
    shown = c.server(server_id)
    fault = shown["fault"]["message"]
    assert re.search(r"Volume [0-9a-f-]{36} did not finish being created", fault), fault
    assert "status is error" in fault, fault
    # The volume made for it is deleted, and the server shows none.
    fixtures.wait_until(lambda: not [v for v in c.volumes() if v["id"] not in before], timeout=30,
                        what="the failed build's volume to be deleted")
    assert shown["os-extended-volumes:volumes_attached"] == [] and shown["image"] == ""
    assert server_id not in _driver(cloud).volumes and server_id not in _driver(cloud).specs
    c.delete_server(server_id)


def test_bad_requests(cloud: cloud_fixture.Cloud, flavor_id: str, image_id: str) -> None:
    c = Boot(cloud)
    volume_id = c.new_volume()
    bad_cases: list[tuple[list[dict[str, Any]] | None, str]] = [
        ([_root(str(uuid.uuid4()))], "could not be found"),  # an unknown volume: 400, as Nova
        ([_root(image_id, "image")], "non-zero size"),  # an image to a volume needs volume_size
        ([_root(None, "blank")], "non-zero size"),
        ([_root(str(uuid.uuid4()), "snapshot")], "could not be found"),
        ([_root(volume_id), _root(image_id, "image", volume_size=1)], "Boot sequence"),  # two boot_index 0
        ([{**_root(volume_id), "boot_index": 1}], "Boot sequence"),  # no 0
        ([{"source_type": "volume", "destination_type": "volume", "boot_index": 0}], "Missing device UUID"),
        ([{**_root(volume_id), "destination_type": "local"}], "local"),
        ([_root(image_id, "image", volume_size=1), {**_root(volume_id), "boot_index": 2}], "Boot sequence"),
        # data volumes: the same volume twice, a blank or image one without a size, unknown ones
        ([_root(image_id, "image", volume_size=1), _data(volume_id), _data(volume_id)], "more than once"),
        ([_root(image_id, "image", volume_size=1), _data(None, "blank")], "non-zero size"),
        ([_root(image_id, "image", volume_size=1), _data(image_id, "image")], "non-zero size"),
        ([_root(image_id, "image", volume_size=1), _data(str(uuid.uuid4()))], "could not be found"),
        ([_root(image_id, "image", volume_size=1), _data(str(uuid.uuid4()), "snapshot")], "could not be found"),
        ([], "Missing imageRef"),
        ([_root(volume_id)], f"volume {volume_id} is not bootable"),  # a blank volume, not marked bootable
    ]
    for bdms, why in bad_cases:
        refused = c.boot(flavor_id, bdms)
        assert refused.status_code == 400, (bdms, refused.text)
        assert why in refused.text, (bdms, refused.text)
    # imageRef with a root mapping naming another image: that image is read too (Nova's 400 when it is missing).
    unknown = str(uuid.uuid4())
    other = c.boot(flavor_id, [{"uuid": unknown, "source_type": "image", "destination_type": "local",
                                "boot_index": 0}], imageRef=image_id)
    assert other.status_code == 400 and f"failed to get image {unknown}" in other.text, other.text
    refused = c.boot(flavor_id, [_root(volume_id)], min_count=2)
    assert refused.status_code == 400 and "multiple instances" in refused.text
    both = c.boot(flavor_id, [_root(volume_id)], legacy=[{"device_name": "vda", "volume_id": volume_id}])
    assert both.status_code == 400
    assert c.vol(volume_id)["status"] == "available"

    # A volume in use by another server: 400, and nothing else changes.
    assert c.call("POST", f"{c.volume}/volumes/{volume_id}/action",
                  {"os-set_bootable": {"bootable": True}}).status_code == 200
    first = _active(cloud, c.boot(flavor_id, [_root(volume_id)]))
    busy = c.boot(flavor_id, [_root(volume_id)])
    assert busy.status_code == 400 and "in-use" in busy.text, busy.text
    assert [a["server_id"] for a in c.vol(volume_id)["attachments"]] == [first]
    c.delete_server(first)
    fixtures.wait_until(lambda: c.vol(volume_id)["status"] == "available", timeout=30, what="the volume")
    assert c.call("DELETE", f"{c.volume}/volumes/{volume_id}").status_code == 202


def test_volume_quota_is_403_and_leaves_nothing(cloud: cloud_fixture.Cloud, flavor_id: str, image_id: str) -> None:
    c = Boot(cloud)
    before = {v["id"] for v in c.volumes()}
    servers_before = c.call("GET", f"{c.compute}/servers").json()["servers"]
    over = c.boot(flavor_id, [_root(None, "blank", volume_size=QUOTA_GIGABYTES + 1)])
    assert over.status_code == 403 and "Quota exceeded" in over.text, over.text
    assert "forbidden" in over.json()
    assert {v["id"] for v in c.volumes()} == before
    assert c.call("GET", f"{c.compute}/servers").json()["servers"] == servers_before
    # A data volume over the quota: 403 too, and nothing is made, reserved or recorded.
    volume_id = c.new_volume()
    before = {v["id"] for v in c.volumes()}
    over = c.boot(flavor_id, [_data(volume_id), _data(None, "blank", volume_size=QUOTA_GIGABYTES + 1)],
                  imageRef=image_id)
    assert over.status_code == 403 and "Quota exceeded" in over.text, over.text
    assert {v["id"] for v in c.volumes()} == before
    assert c.vol(volume_id)["status"] == "available" and c.vol(volume_id)["attachments"] == []
    assert c.call("GET", f"{c.compute}/servers").json()["servers"] == servers_before
    assert c.call("DELETE", f"{c.volume}/volumes/{volume_id}").status_code == 202


def _snapshot_of_a_new_volume(c: Boot) -> tuple[str, str]:
    base = c.new_volume()
    snap = c.call("POST", f"{c.volume}/snapshots", {"snapshot": {"volume_id": base}}).json()["snapshot"]
    fixtures.wait_until(lambda: c.call("GET", f"{c.volume}/snapshots/{snap['id']}").json()["snapshot"]["status"]
                        == "available", timeout=30, what="the snapshot")
    return base, str(snap["id"])


def test_data_volumes_with_an_image_root(cloud: cloud_fixture.Cloud, flavor_id: str, image_id: str) -> None:
    c = Boot(cloud)
    existing = c.new_volume()  # a blank volume: a data volume need not be bootable
    base, snapshot_id = _snapshot_of_a_new_volume(c)
    before = {v["id"] for v in c.volumes()}
    server_id = _active(cloud, c.boot(flavor_id, [
        {"boot_index": 0, "source_type": "image", "destination_type": "local", "uuid": image_id},
        _data(existing, device_name="/dev/vdc"),  # honoured: it is free
        _data(None, "blank", volume_size=1, delete_on_termination=True, volume_type="__DEFAULT__"),
        _data(image_id, "image", volume_size=1, boot_index=-1, delete_on_termination=True),
        _data(snapshot_id, "snapshot", boot_index=None, device_name="vda")],  # vda is the root's: the next one
        imageRef=image_id, version="compute 2.79"))

    made = {v["id"]: v for v in c.volumes() if v["id"] not in before}
    by_source = {("blank" if not v.get("snapshot_id") and not v.get("volume_image_metadata") else
                  "snapshot" if v.get("snapshot_id") else "image"): v for v in made.values()}
    assert set(by_source) == {"blank", "image", "snapshot"} and len(made) == 3
    assert by_source["blank"]["volume_type"] == "__DEFAULT__"
    assert by_source["snapshot"]["snapshot_id"] == snapshot_id
    assert by_source["image"]["volume_image_metadata"]["image_id"] == image_id
    expected = [(existing, "/dev/vdc", False), (by_source["blank"]["id"], "/dev/vdb", True),
                (by_source["image"]["id"], "/dev/vdd", True), (by_source["snapshot"]["id"], "/dev/vde", False)]

    # The guest booted its image (a local root) and got each volume's real export at its device.
    spec = _driver(cloud).specs[server_id]
    assert spec.image_ref == image_id and spec.root_volume is None
    disks = _driver(cloud).volumes[server_id]
    assert sorted(disks) == ["/dev/vdb", "/dev/vdc", "/dev/vdd", "/dev/vde"]
    assert all(d["driver_volume_type"] == "nbd" and _nbd_size(d["data"]) == GiB for d in disks.values())
    shown = c.server(server_id)
    assert shown["image"]["id"] == image_id
    assert sorted(shown["os-extended-volumes:volumes_attached"], key=lambda v: v["id"]) == sorted(
        ({"id": v, "delete_on_termination": d} for v, _, d in expected), key=lambda v: v["id"])
    listed = c.call("GET", f"{c.compute}/servers/{server_id}/os-volume_attachments").json()["volumeAttachments"]
    assert sorted((a["volumeId"], a["device"]) for a in listed) == sorted((v, dev) for v, dev, _ in expected)
    for volume_id, device, _ in expected:
        volume = c.vol(volume_id)
        assert volume["status"] == "in-use", volume
        assert [(a["server_id"], a["device"]) for a in volume["attachments"]] == [(server_id, device)]

    # A data volume detaches as any attached one; a new one takes the first free device.
    detached = c.call("DELETE", f"{c.compute}/servers/{server_id}/os-volume_attachments/{existing}")
    assert detached.status_code == 202, detached.text
    assert c.vol(existing)["status"] == "available" and "/dev/vdc" not in _driver(cloud).volumes[server_id]
    attached = c.attach(server_id, existing)
    assert attached.status_code == 200 and attached.json()["volumeAttachment"]["device"] == "/dev/vdc"

    # The server's delete gives back the volumes kept (delete_on_termination false) and deletes the others.
    c.delete_server(server_id)
    for volume_id, _, deleted in expected:
        if deleted:
            fixtures.wait_until(lambda v=volume_id: c.gone(v), timeout=30, what="the volume to go with its server")
        else:
            fixtures.wait_until(lambda v=volume_id: c.vol(v)["status"] == "available", timeout=30,
                                what="the volume to be given back")
            assert c.call("DELETE", f"{c.volume}/volumes/{volume_id}").status_code == 202
    assert c.call("DELETE", f"{c.volume}/snapshots/{snapshot_id}").status_code == 202
    fixtures.wait_until(lambda: c.call("GET", f"{c.volume}/snapshots/{snapshot_id}").status_code == 404, timeout=30,
                        what="the snapshot to go")
    assert c.call("DELETE", f"{c.volume}/volumes/{base}").status_code == 202


def test_data_volumes_with_a_volume_root(cloud: cloud_fixture.Cloud, flavor_id: str) -> None:
    c = Boot(cloud)
    root = c.bootable_volume()
    before = {v["id"] for v in c.volumes()}
    server_id = _active(cloud, c.boot(flavor_id, [
        _data(None, "blank", volume_size=1, boot_index=1, tag="data"), _root(root, delete_on_termination=True)],
        version="compute 2.42"))
    [data] = [v for v in c.volumes() if v["id"] not in before]
    disks = _driver(cloud).volumes[server_id]
    assert sorted(disks) == ["/dev/vda", "/dev/vdb"]
    assert _driver(cloud).specs[server_id].root_volume == disks["/dev/vda"]
    listed = c.call("GET", f"{c.compute}/servers/{server_id}/os-volume_attachments",
                    version="compute 2.70").json()["volumeAttachments"]
    assert sorted((a["volumeId"], a["device"], a["tag"]) for a in listed) == sorted(
        [(root, "/dev/vda", None), (data["id"], "/dev/vdb", "data")])
    # The root stays; the data volume detaches.
    assert c.call("DELETE", f"{c.compute}/servers/{server_id}/os-volume_attachments/{root}").status_code == 400
    assert c.call("DELETE", f"{c.compute}/servers/{server_id}/os-volume_attachments/{data['id']}").status_code == 202
    assert c.vol(data["id"])["status"] == "available"
    c.delete_server(server_id)
    fixtures.wait_until(lambda: c.gone(root), timeout=30, what="the root volume to go with its server")
    assert c.vol(data["id"])["status"] == "available"  # detached before: the delete does not touch it
    assert c.call("DELETE", f"{c.volume}/volumes/{data['id']}").status_code == 202


def test_a_data_volume_in_error_fails_the_build_and_gives_everything_back(cloud: cloud_fixture.Cloud,
                                                                          flavor_id: str, image_id: str) -> None:
    c = Boot(cloud)
    existing = c.new_volume()
    before = {v["id"] for v in c.volumes()}
    made = c.boot(flavor_id, [_data(existing), _data(None, "blank", volume_size=1),
                              _data(None, "blank", volume_size=TOO_BIG_FOR_THE_HOST)], imageRef=image_id)
    assert made.status_code == 202, made.text
    server_id = made.json()["server"]["id"]
    wait_for_status(cloud.connection(), server_id, "ERROR")
    shown = c.server(server_id)
    fault = shown["fault"]["message"]
    made_ids = [v["id"] for v in c.volumes() if v["id"] not in before and v["size"] == TOO_BIG_FOR_THE_HOST]
    assert re.search(r"Volume [0-9a-f-]{36} did not finish being created", fault) and "status is error" in fault, fault
    assert not made_ids or made_ids[0] in fault, fault
    # Both volumes made for it are deleted, the existing one is available again, and the server shows none.
    fixtures.wait_until(lambda: not [v for v in c.volumes() if v["id"] not in before], timeout=30,
                        what="the failed build's volumes to be deleted")
    assert c.vol(existing)["status"] == "available" and c.vol(existing)["attachments"] == []
    assert shown["os-extended-volumes:volumes_attached"] == []
    assert c.call("GET", f"{c.compute}/servers/{server_id}/os-volume_attachments").json()["volumeAttachments"] == []
    assert server_id not in _driver(cloud).volumes and server_id not in _driver(cloud).specs
    c.delete_server(server_id)
    assert c.call("DELETE", f"{c.volume}/volumes/{existing}").status_code == 202


def test_a_data_volume_that_cannot_be_connected_fails_the_build_and_gives_everything_back(
        cloud: cloud_fixture.Cloud, flavor_id: str, image_id: str) -> None:
    c = Boot(cloud)
    existing = c.new_volume()
    path = os.path.join(cloud.aio.state_dir, "volumes", f"volume-{existing}")
    hidden = f"{path}.hidden"
    os.rename(path, hidden)  # the storage host cannot export it: its connection fails
    try:
        before = {v["id"] for v in c.volumes()}
        made = c.boot(flavor_id, [_data(None, "blank", volume_size=1, boot_index=1), _data(existing)],
                      imageRef=image_id)
        assert made.status_code == 202, made.text
        server_id = made.json()["server"]["id"]
        wait_for_status(cloud.connection(), server_id, "ERROR")
        fault = c.server(server_id)["fault"]["message"]
        assert f"volume {existing} (/dev/vdc) could not be connected" in fault, fault
        fixtures.wait_until(lambda: not [v for v in c.volumes() if v["id"] not in before], timeout=30,
                            what="the failed build's blank volume to be deleted")
        fixtures.wait_until(lambda: c.vol(existing)["status"] == "available", timeout=30, what="the volume back")
        assert c.vol(existing)["attachments"] == []
        assert c.call("GET", f"{c.compute}/servers/{server_id}/os-volume_attachments").json()[
            "volumeAttachments"] == []
        assert server_id not in _driver(cloud).volumes and server_id not in _driver(cloud).specs
        c.delete_server(server_id)
    finally:
        os.rename(hidden, path)
    assert c.call("DELETE", f"{c.volume}/volumes/{existing}").status_code == 202
