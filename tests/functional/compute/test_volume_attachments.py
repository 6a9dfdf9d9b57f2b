"""``os-volume_attachments`` over HTTP: compute, the volume service (file backend, NBD exports) and a fake
compute host that records the disks it was given."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import CONFIG, SERVICES, boot, wait_for_status
from tools import ports

GiB = 1024 ** 3


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory) -> Iterator[cloud_fixture.Cloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("attach")
    nbd = ports.free_offset([0, 19])
    with fixtures.backend_config(request.param, str(tmp)) as backend:
        extra = {**CONFIG, **backend, "volume": {"report_interval": "1", "nbd_port_min": str(nbd),
                                                 "nbd_port_max": str(nbd + 19)}}
        with cloud_fixture.running_cloud(tmp, [*SERVICES, "volume", "volume-manager"], extra_config=extra) as c:
            yield c


@pytest.fixture(scope="module")
def image_id(cloud: cloud_fixture.Cloud) -> str:
    conn = cloud.connection()
    image = conn.image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                    data=b"\0" * 4096, visibility="public")
    return str(image.id)


@pytest.fixture(scope="module")
def flavor_id(cloud: cloud_fixture.Cloud) -> str:
    return str(cloud.connection().compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1).id)


def _driver(cloud: cloud_fixture.Cloud) -> Any:
    return next(item.driver for item in cloud.aio.running if hasattr(item, "driver"))


class Calls:
    def __init__(self, cloud: cloud_fixture.Cloud) -> None:
        conn = cloud.connection()
        self.token = conn.session.get_token()
        self.compute = f"{cloud.url('compute-api')}/v2.1"
        self.volume = f"{cloud.url('volume')}/v3/{conn.session.get_project_id()}"

    def call(self, method: str, url: str, body: Any = None, version: str | None = None) -> requests.Response:
        headers = {"X-Auth-Token": self.token}
        if version:
            headers["OpenStack-API-Version"] = version
        return requests.request(method, url, json=body, headers=headers, timeout=60)

    def new_volume(self) -> str:
        made = self.call("POST", f"{self.volume}/volumes", {"volume": {"size": 1}}).json()["volume"]
        fixtures.wait_until(lambda: self.vol(made["id"])["status"] == "available", timeout=30, what="the volume")
        return str(made["id"])

    def vol(self, volume_id: str) -> dict[str, Any]:
        return self.call("GET", f"{self.volume}/volumes/{volume_id}").json()["volume"]  # type: ignore[no-any-return]

    def attach(self, server_id: str, volume_id: str, version: str = "compute 2.79",
               **extra: Any) -> requests.Response:
        return self.call("POST", f"{self.compute}/servers/{server_id}/os-volume_attachments",
                         {"volumeAttachment": {"volumeId": volume_id, **extra}}, version)


def _nbd_size(data: dict[str, Any]) -> int | None:
    proc = subprocess.run(["qemu-img", "info", "--output=json", "-f", "raw",
                           f"nbd://{data['host']}:{data['port']}/{data['name']}"],
                          capture_output=True, text=True, timeout=30, check=False)
    return 0 if proc.returncode != 0 else int(json.loads(proc.stdout)["virtual-size"])


def test_attach_list_show_detach(cloud: cloud_fixture.Cloud, image_id: str, flavor_id: str) -> None:
    c = Calls(cloud)
    server = wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id).id, "ACTIVE")
    volume_id = c.new_volume()
    made = c.attach(server.id, volume_id, delete_on_termination=False)
    assert made.status_code == 200, made.text
    body = made.json()["volumeAttachment"]
    assert (body["volumeId"], body["serverId"], body["device"]) == (volume_id, server.id, "/dev/vdb")
    assert body["delete_on_termination"] is False
    assert c.vol(volume_id)["status"] == "in-use"
    assert c.vol(volume_id)["attachments"][0]["server_id"] == server.id

    # The fake host got the volume's real export: qemu's NBD client reads the 1 GiB volume through it.
    disks = _driver(cloud).volumes[server.id]
    assert list(disks) == ["/dev/vdb"] and disks["/dev/vdb"]["driver_volume_type"] == "nbd"
    export = dict(disks["/dev/vdb"]["data"])
    assert _nbd_size(export) == GiB

    base = f"{c.compute}/servers/{server.id}/os-volume_attachments"
    listed = c.call("GET", base, version="compute 2.89").json()["volumeAttachments"]
    assert len(listed) == 1 and "id" not in listed[0]
    assert listed[0]["attachment_id"] == c.vol(volume_id)["attachments"][0]["attachment_id"]
    assert listed[0]["bdm_uuid"] and listed[0]["delete_on_termination"] is False
    old = c.call("GET", f"{base}/{volume_id}", version="compute 2.1").json()["volumeAttachment"]
    assert old == {"id": volume_id, "volumeId": volume_id, "serverId": server.id, "device": "/dev/vdb"}
    assert c.call("GET", f"{base}/{uuid.uuid4()}").status_code == 404
    shown = c.call("GET", f"{c.compute}/servers/{server.id}", version="compute 2.3").json()["server"]
    assert shown["os-extended-volumes:volumes_attached"] == [{"id": volume_id, "delete_on_termination": False}]
    detail = c.call("GET", f"{c.compute}/servers/detail").json()["servers"]
    assert {s["id"]: s["os-extended-volumes:volumes_attached"] for s in detail}[server.id] == [{"id": volume_id}]

    # Attaching a volume that is in use: refused (Nova and Tempest: 400), here and on another server.
    again = c.attach(server.id, volume_id)
    assert again.status_code == 400 and "already attached" in again.text
    other = wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id).id, "ACTIVE")
    busy = c.attach(other.id, volume_id)
    assert busy.status_code == 400 and "in-use" in busy.text
    assert c.call("DELETE", f"{c.volume}/volumes/{volume_id}").status_code == 400  # attached

    assert c.call("DELETE", f"{base}/{volume_id}").status_code == 202
    assert c.vol(volume_id)["status"] == "available" and c.vol(volume_id)["attachments"] == []
    assert _driver(cloud).volumes[server.id] == {}
    fixtures.wait_until(lambda: _nbd_size(export) == 0, timeout=10, what="the export to go")
    assert c.call("GET", base).json()["volumeAttachments"] == []
    assert c.call("DELETE", f"{base}/{volume_id}").status_code == 404

    # The second server gets it now.
    assert c.attach(other.id, volume_id).status_code == 200
    assert c.vol(volume_id)["attachments"][0]["server_id"] == other.id
    cloud.connection().compute.delete_server(other.id)
    fixtures.wait_until(lambda: c.vol(volume_id)["status"] == "available", timeout=30,
                        what="the deleted server's volume to be available")
    cloud.connection().compute.delete_server(server.id)
    assert c.call("DELETE", f"{c.volume}/volumes/{volume_id}").status_code == 202


def test_bad_requests_and_delete_on_termination(cloud: cloud_fixture.Cloud, image_id: str, flavor_id: str) -> None:
    c = Calls(cloud)
    server = wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id).id, "ACTIVE")
    assert c.attach(server.id, "not-a-uuid").status_code == 400
    assert c.attach(server.id, str(uuid.uuid4())).status_code == 404
    volume_id = c.new_volume()
    too_old = c.attach(server.id, volume_id, version="compute 2.78", delete_on_termination=True)
    assert too_old.status_code == 400 and "delete_on_termination" in too_old.text
    # A failing hot-plug leaves the volume as it was: available, no attachment, no export.
    _driver(cloud).fail_next("attach_volume", "the hypervisor said no")
    failed = c.attach(server.id, volume_id)
    assert failed.status_code == 500 and "the hypervisor said no" in failed.text
    assert c.vol(volume_id)["status"] == "available" and c.vol(volume_id)["attachments"] == []
    state = os.path.join(cloud.aio.options.state_dir, "volumes", f"export-{volume_id}.json")
    fixtures.wait_until(lambda: not os.path.exists(state), timeout=10, what="the export's removal")

    # A suspended server's guest is saved with its disks: no attach (409, as for any state without a guest).
    cloud.connection().compute.suspend_server(server)
    wait_for_status(cloud.connection(), server.id, "SUSPENDED")
    busy = c.attach(server.id, volume_id)
    assert busy.status_code == 409 and "vm_state suspended" in busy.text
    assert c.vol(volume_id)["status"] == "available"
    cloud.connection().compute.resume_server(server)
    wait_for_status(cloud.connection(), server.id, "ACTIVE")

    made = c.attach(server.id, volume_id, delete_on_termination=True)
    assert made.status_code == 200 and made.json()["volumeAttachment"]["delete_on_termination"] is True

    # PUT, Nova's update: from 2.85 delete_on_termination may change and nothing else; another volumeId is a
    # swap, refused here (409) once the attachment is found (404 when it is not).
    url = f"{c.compute}/servers/{server.id}/os-volume_attachments/{volume_id}"
    kept = c.call("PUT", url, {"volumeAttachment": {"volumeId": volume_id, "delete_on_termination": False}},
                  "compute 2.85")
    assert kept.status_code == 202, kept.text
    assert c.call("GET", url, version="compute 2.85").json()["volumeAttachment"]["delete_on_termination"] is False
    moved = c.call("PUT", url, {"volumeAttachment": {"volumeId": volume_id, "device": "/dev/vdz"}}, "compute 2.85")
    assert moved.status_code == 400 and "device" in moved.text, moved.text
    early = c.call("PUT", url, {"volumeAttachment": {"volumeId": volume_id, "delete_on_termination": True}},
                   "compute 2.84")
    assert early.status_code == 400 and "delete_on_termination" in early.text, early.text
    swap = c.call("PUT", url, {"volumeAttachment": {"volumeId": str(uuid.uuid4())}}, "compute 2.85")
    assert swap.status_code == 409 and "swapping" in swap.text, swap.text
    not_attached = c.call("PUT", f"{c.compute}/servers/{server.id}/os-volume_attachments/{uuid.uuid4()}",
                          {"volumeAttachment": {"volumeId": volume_id}})
    assert not_attached.status_code == 404, not_attached.text
    assert c.call("PUT", url, {"volumeAttachment": {"volumeId": volume_id, "delete_on_termination": True}},
                  "compute 2.85").status_code == 202
    cloud.connection().compute.delete_server(server.id)
    fixtures.wait_until(lambda: c.call("GET", f"{c.volume}/volumes/{volume_id}").status_code == 404, timeout=30,
                        what="the delete_on_termination volume to go with its server")
    assert not os.path.exists(state)


def test_volumes_of_a_shelved_server_reach_its_guest_when_unshelved(cloud: cloud_fixture.Cloud, image_id: str,
                                                                    flavor_id: str) -> None:
    c = Calls(cloud)
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    before = c.new_volume()
    assert c.attach(server.id, before).status_code == 200  # vdb, attached while the guest runs
    conn.compute.shelve_server(server)
    wait_for_status(conn, server.id, "SHELVED_OFFLOADED")
    assert server.id not in _driver(cloud).volumes or not _driver(cloud).volumes[server.id]

    # No guest: before 2.20 that is a 409, from 2.20 the volume is recorded and reserved for the unshelve.
    during = c.new_volume()
    early = c.attach(server.id, during, version="compute 2.19")
    assert early.status_code == 409 and "shelved_offloaded" in early.text, early.text
    made = c.attach(server.id, during, version="compute 2.20")
    assert made.status_code == 200, made.text
    assert made.json()["volumeAttachment"]["device"] == "/dev/vdc"
    assert c.vol(during)["status"] == "in-use"
    dropped = c.new_volume()
    assert c.attach(server.id, dropped, version="compute 2.20").status_code == 200
    gone = c.call("DELETE", f"{c.compute}/servers/{server.id}/os-volume_attachments/{dropped}",
                  version="compute 2.20")
    assert gone.status_code == 202, gone.text
    assert c.vol(dropped)["status"] == "available" and c.vol(dropped)["attachments"] == []

    # Unshelved, the new guest has both: the one from before the shelve and the one added while offloaded,
    # each through its real export.
    conn.compute.unshelve_server(server)
    wait_for_status(conn, server.id, "ACTIVE")
    disks = _driver(cloud).volumes[server.id]
    assert sorted(disks) == ["/dev/vdb", "/dev/vdc"], disks
    assert _nbd_size(disks["/dev/vdc"]["data"]) == GiB
    listed = c.call("GET", f"{c.compute}/servers/{server.id}/os-volume_attachments").json()["volumeAttachments"]
    assert sorted((a["volumeId"], a["device"]) for a in listed) == sorted([(before, "/dev/vdb"),
                                                                          (during, "/dev/vdc")])
    conn.compute.delete_server(server.id)
    for volume_id in (before, during):
        fixtures.wait_until(lambda v=volume_id: c.vol(v)["status"] == "available", timeout=30,
                            what="the volume to be given back")
    for volume_id in (before, during, dropped):
        assert c.call("DELETE", f"{c.volume}/volumes/{volume_id}").status_code == 202


def test_volume_proxies_up_to_2_35(cloud: cloud_fixture.Cloud) -> None:
    """``/os-volumes`` and ``/os-snapshots``: the volume service's records in Nova's shape, 404 from 2.36."""
    c = Calls(cloud)
    old = "compute 2.35"
    made = c.call("POST", f"{c.compute}/os-volumes", {"volume": {"size": 1, "display_name": "proxied",
                                                                 "metadata": {"k": "v"}}}, old)
    assert made.status_code == 200, made.text
    volume = made.json()["volume"]
    assert (volume["displayName"], volume["size"], volume["metadata"], volume["attachments"]) == (
        "proxied", 1, {"k": "v"}, [{}])
    fixtures.wait_until(lambda: c.call("GET", f"{c.compute}/os-volumes/{volume['id']}", version=old)
                        .json()["volume"]["status"] == "available", timeout=30, what="the proxied volume")
    listed = c.call("GET", f"{c.compute}/os-volumes/detail?limit=1", version=old).json()["volumes"]
    assert len(listed) == 1
    assert c.call("GET", f"{c.compute}/os-volumes?offset=x", version=old).status_code == 400
    for bad in ({"size": 0}, {"size": "big"}, {}):
        assert c.call("POST", f"{c.compute}/os-volumes", {"volume": bad}, old).status_code == 400, bad
    assert c.call("GET", f"{c.compute}/os-volumes", version="compute 2.36").status_code == 404
    assert c.call("GET", f"{c.compute}/os-volumes/{uuid.uuid4()}", version=old).status_code == 404
    assert c.call("GET", f"{c.compute}/os-volumes/", version=old).status_code == 404  # an empty id, as Nova

    snap = c.call("POST", f"{c.compute}/os-snapshots", {"snapshot": {"volume_id": volume["id"],
                                                                     "display_name": "s1"}}, old)
    assert snap.status_code == 200, snap.text
    snap_id = snap.json()["snapshot"]["id"]
    assert snap.json()["snapshot"]["volumeId"] == volume["id"]
    fixtures.wait_until(lambda: c.call("GET", f"{c.compute}/os-snapshots/{snap_id}", version=old)
                        .json()["snapshot"]["status"] == "available", timeout=30, what="the snapshot")
    assert snap_id in {s["id"] for s in c.call("GET", f"{c.compute}/os-snapshots", version=old).json()["snapshots"]}
    assert c.call("DELETE", f"{c.compute}/os-snapshots/{snap_id}", version=old).status_code == 202
    fixtures.wait_until(lambda: c.call("GET", f"{c.compute}/os-snapshots/{snap_id}", version=old).status_code == 404,
                        timeout=30, what="the snapshot to go")
    assert c.call("DELETE", f"{c.compute}/os-volumes/{volume['id']}", version=old).status_code == 202


def _actions(c: Calls, server_id: str, name: str) -> list[dict[str, Any]]:
    listed = c.call("GET", f"{c.compute}/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    return [a for a in listed if a["action"] == name]


def test_extend_attached_volume(cloud: cloud_fixture.Cloud, image_id: str, flavor_id: str) -> None:
    """Cinder 3.42: an in-use volume grows; its export presents the new size, the volume service sends
    volume-extended to compute and the guest's disk follows (the fake host records the size it was given)."""
    c = Calls(cloud)
    server = wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id).id, "ACTIVE")
    volume_id = c.new_volume()
    assert c.attach(server.id, volume_id).status_code == 200
    export = dict(_driver(cloud).volumes[server.id]["/dev/vdb"]["data"])
    action = f"{c.volume}/volumes/{volume_id}/action"

    # Before 3.42 an in-use volume is not extended (Cinder's 400).
    old = c.call("POST", action, {"os-extend": {"new_size": 2}}, "volume 3.41")
    assert old.status_code == 400 and "must be available to extend" in old.text and "in-use" in old.text
    assert c.vol(volume_id)["size"] == 1

    grown = c.call("POST", action, {"os-extend": {"new_size": 2}}, "volume 3.42")
    assert grown.status_code == 202, grown.text
    fixtures.wait_until(lambda: c.vol(volume_id)["size"] == 2 and c.vol(volume_id)["status"] == "in-use",
                        timeout=30, what="the volume to be extended and in-use again")
    assert _nbd_size(export) == 2 * GiB  # the running export presents the new size
    fixtures.wait_until(lambda: _driver(cloud).volume_sizes.get(server.id, {}).get("/dev/vdb") == 2 * GiB,
                        timeout=30, what="the guest's disk to grow")
    fixtures.wait_until(lambda: [a["message"] for a in _actions(c, server.id, "extend_volume")] == [None],
                        timeout=30, what="the extend_volume action to end")
    assert c.vol(volume_id)["attachments"][0]["server_id"] == server.id
    [done] = _actions(c, server.id, "extend_volume")
    shown = c.call("GET", f"{c.compute}/servers/{server.id}/os-instance-actions/{done['request_id']}")
    [event] = shown.json()["instanceAction"]["events"]  # what Tempest waits for
    assert (event["event"], event["result"]) == ("compute_extend_volume", "Success") and event["finish_time"]

    # The host fails to grow the guest's disk: the volume is extended all the same, the action ends in Error.
    _driver(cloud).fail_next("extend_volume", "the hypervisor said no")
    assert c.call("POST", action, {"os-extend": {"new_size": 3}}, "volume 3.42").status_code == 202
    fixtures.wait_until(lambda: sorted(str(a["message"]) for a in _actions(c, server.id, "extend_volume"))
                        == ["Error", "None"], timeout=30, what="the failed extend_volume action")
    assert c.vol(volume_id)["size"] == 3 and c.vol(volume_id)["status"] == "in-use"
    assert _driver(cloud).volume_sizes[server.id]["/dev/vdb"] == 2 * GiB

    # The storage cannot grow (its file is already larger, as if someone wrote behind the service's back):
    # error_extending with the reason, compute is not told.
    [path] = glob.glob(os.path.join(cloud.aio.state_dir, "**", f"volume-{volume_id}"), recursive=True)
    os.truncate(path, 5 * GiB)
    assert c.call("POST", action, {"os-extend": {"new_size": 4}}, "volume 3.42").status_code == 202
    fixtures.wait_until(lambda: c.vol(volume_id)["status"] == "error_extending", timeout=30,
                        what="the failed extend")
    assert c.vol(volume_id)["size"] == 3 and len(_actions(c, server.id, "extend_volume")) == 2

    # Events the compute API does not hand on: a volume the server lacks (422), no tag (400), no server (404).
    url = f"{c.compute}/os-server-external-events"
    events = [{"name": "volume-extended", "server_uuid": server.id, "tag": str(uuid.uuid4())},
              {"name": "volume-extended", "server_uuid": server.id},
              {"name": "volume-extended", "server_uuid": str(uuid.uuid4()), "tag": volume_id}]
    answered = c.call("POST", url, {"events": events}, "compute 2.51")
    assert answered.status_code == 404, answered.text
    assert [(e["code"], e["status"]) for e in answered.json()["events"]] == [(422, "failed"), (400, "failed"),
                                                                            (404, "failed")]
    assert c.call("POST", url, {"events": events[:1]}, "compute 2.50").status_code == 400  # a 2.51 name
    c.call("POST", f"{c.volume}/volumes/{volume_id}/action", {"os-reset_status": {"status": "in-use"}})
    cloud.connection().compute.delete_server(server.id)
    fixtures.wait_until(lambda: c.vol(volume_id)["status"] == "available", timeout=30,
                        what="the deleted server's volume to be available")
    assert c.call("DELETE", f"{c.volume}/volumes/{volume_id}").status_code == 202
