"""A volume attached to a real guest: the all-in-one with the libvirt driver (qemu/TCG) and the volume service
on the file backend, exported over NBD by qemu-storage-daemon and hot-plugged as a qemu network disk.

The guest's user data prints its disks whenever they change and writes a marker to the new one; after the
detach the marker is read back from the volume's file on the host.
"""

from __future__ import annotations

import base64
import os
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

libvirt = pytest.importorskip("libvirt")

from tests import fixtures  # noqa: E402
from tests.e2e.guests import console_until, domains, instances_dir, upload_test_image  # noqa: E402
from tests.functional.cloud import Cloud, running_cloud  # noqa: E402
from tests.functional.compute.conftest import wait_for_status  # noqa: E402
from tools import ports  # noqa: E402

pytestmark = pytest.mark.e2e

SERVICES = ["image", "placement", "scheduler", "compute-api", "conductor", "compute", "volume", "volume-manager"]
MARKER = "NUBIS-VOLUME-MARKER"
# Prints the guest's virtio disks whenever they change; writes MARKER to a new third disk (root vda, config
# drive vdb, so the volume is vdc) and prints its size in 512-byte sectors, and again whenever it changes
# (VDC-SIZE). Straight to the console: the image pipes user data's output through sed, which holds back a few
# lines until its buffer fills.
WATCHER = f"""#!/bin/sh
exec >/dev/console 2>&1
last=""
lastsize=""
while true; do
    now=$(ls /sys/block | grep '^vd' | tr '\\n' ' ')
    if [ "$now" != "$last" ]; then
        echo "DISKS=$now"
        last="$now"
        if [ -b /dev/vdc ]; then
            echo "VDC-SECTORS=$(cat /sys/block/vdc/size)"
            echo {MARKER} | dd of=/dev/vdc bs=512 count=1 conv=sync 2>/dev/null && sync && echo "WROTE-MARKER"
        fi
    fi
    if [ -b /dev/vdc ]; then
        size=$(cat /sys/block/vdc/size)
        if [ "$size" != "$lastsize" ]; then
            echo "VDC-SIZE=$size"
            lastsize="$size"
        fi
    else
        lastsize=""
    fi
    sleep 1
done
"""
GiB_SECTORS = 2 * 1024 * 1024  # 1 GiB in 512-byte sectors


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[Cloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("libvirt-volumes")
    instances = instances_dir("nubis-e2e-instances-")
    nbd = ports.free_offset([0, 9])
    config = {"identity": {"password_hash_rounds": "4"},
              "compute": {"report_interval": "1", "sync_power_state_interval": "0"},
              "libvirt": {"virt_type": "qemu", "force_config_drive": "true", "shutdown_timeout": "10",
                          "instances_path": instances},
              "volume": {"report_interval": "1", "nbd_port_min": str(nbd), "nbd_port_max": str(nbd + 9)}}
    try:
        with running_cloud(tmp / "cloud", SERVICES, virt="libvirt", extra_config=config) as c:
            yield c
    finally:
        shutil.rmtree(instances, ignore_errors=True)


def _network_disks(uuid: str) -> list[ET.Element]:
    conn = libvirt.open("qemu:///system")
    try:
        root = ET.fromstring(conn.lookupByUUIDString(uuid).XMLDesc(0))
    finally:
        conn.close()
    return [d for d in root.iterfind("devices/disk") if d.get("type") == "network"]


def _last_disks(conn: object, server: object) -> str:
    """The guest's disks as its user data last printed them."""
    output = conn.compute.get_server_console_output(server)["output"]  # type: ignore[attr-defined]
    lines = [line.strip() for line in output.splitlines() if line.startswith("DISKS=")]
    return lines[-1][len("DISKS="):] if lines else ""


def _extend_event(conn: object, server_id: str) -> dict | None:  # type: ignore[type-arg]
    """The ``compute_extend_volume`` event of the server's ``extend_volume`` action once it ended, else None."""
    compute = conn.compute  # type: ignore[attr-defined]
    listed = compute.get(f"/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    for action in (a for a in listed if a["action"] == "extend_volume"):
        shown = compute.get(f"/servers/{server_id}/os-instance-actions/{action['request_id']}").json()
        for event in shown["instanceAction"]["events"]:
            if event["event"] == "compute_extend_volume" and event["finish_time"]:
                return event  # type: ignore[no-any-return]
    return None


def test_attach_write_detach_on_a_real_guest(cloud: Cloud, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    conn = cloud.connection()
    image_id = upload_test_image(conn, str(tmp_path_factory.mktemp("test-image")))
    flavor = conn.compute.create_flavor(name="v1.tiny", ram=256, vcpus=1, disk=1)
    server = conn.compute.create_server(name="with-volume", image_id=image_id, flavor_id=flavor.id,
                                        networks="none", user_data=base64.b64encode(WATCHER.encode()).decode())
    server = wait_for_status(conn, server.id, "ACTIVE", timeout=120)
    assert "DISKS=vda vdb " in console_until(conn, server, "DISKS=")

    volume = conn.block_storage.create_volume(size=1, name="e2e-volume")
    conn.block_storage.wait_for_status(volume, "available", wait=60)
    started = time.monotonic()
    attached = conn.compute.create_volume_attachment(server, volume_id=volume.id)
    attach_seconds = time.monotonic() - started
    assert attached.device == "/dev/vdc"  # vda root, vdb config drive
    assert conn.block_storage.get_volume(volume.id).status == "in-use"
    disks = _network_disks(server.id)
    assert len(disks) == 1 and disks[0].find("source").get("protocol") == "nbd"
    assert disks[0].find("target").get("dev") == "vdc"

    text = console_until(conn, server, "WROTE-MARKER", timeout=60)
    assert "DISKS=vda vdb vdc " in text and f"VDC-SECTORS={GiB_SECTORS}" in text  # 1 GiB

    # Extend it while attached (3.42): in-use again at 2 GiB, and compute is told (volume-extended), whose
    # libvirt driver asks qemu to grow the disk (blockResize). QEMU's NBD client cannot grow a disk in place
    # ("Cannot grow NBD nodes"), so that step ends in Error and the guest sees the new size once reattached.
    grown = conn.block_storage.post(f"/volumes/{volume.id}/action", json={"os-extend": {"new_size": 2}},
                                    microversion="3.42")
    assert grown.status_code == 202, grown.text
    fixtures.wait_until(lambda: (conn.block_storage.get_volume(volume.id).status,
                                 conn.block_storage.get_volume(volume.id).size) == ("in-use", 2),
                        timeout=60, what="the attached volume to grow")
    event = fixtures.wait_until(lambda: _extend_event(conn, server.id), timeout=60,
                                what="the compute_extend_volume event to end")
    if event["result"] == "Success":
        console_until(conn, server, f"VDC-SIZE={2 * GiB_SECTORS}", timeout=60)
    else:
        assert event["result"] == "Error", event

    started = time.monotonic()
    conn.compute.delete_volume_attachment(server, volume.id)
    detach_seconds = time.monotonic() - started
    assert _network_disks(server.id) == []
    conn.block_storage.wait_for_status(volume, "available", wait=30)
    fixtures.wait_until(lambda: _last_disks(conn, server) == "vda vdb", timeout=30,
                        what="the guest to see its disk go")
    if event["result"] != "Success":  # attached again: a new export, a new connection, the new size
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
        console_until(conn, server, f"VDC-SECTORS={2 * GiB_SECTORS}", timeout=60)
        conn.compute.delete_volume_attachment(server, volume.id)
        conn.block_storage.wait_for_status(volume, "available", wait=30)
        fixtures.wait_until(lambda: _last_disks(conn, server) == "vda vdb", timeout=30,
                            what="the guest to see its disk go again")

    # The guest's write went through the export into the volume's file.
    state = cloud.aio.options.state_dir
    with open(os.path.join(state, "volumes", f"volume-{volume.id}"), "rb") as f:
        assert f.read(len(MARKER)).decode() == MARKER
    fixtures.wait_until(lambda: not os.path.exists(os.path.join(state, "volumes", f"export-{volume.id}.json")),
                        timeout=10, what="the export to go")
    print(f"attach {attach_seconds:.2f} s, detach {detach_seconds:.2f} s (qemu TCG guest)")

    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=60)
    conn.block_storage.delete_volume(volume)
    conn.block_storage.wait_for_delete(volume, wait=30)
    assert domains() == []
    assert [n for n in os.listdir(os.path.join(state, "volumes")) if not n.startswith(".")] == []


ROOT_MARKER = "NUBIS-ROOT-VOLUME-MARKER"
ROOT_MARKER_OFFSET = 512 * 1024 * 1024  # half way into the 1 GiB volume: past the image's own bytes
# Writes ROOT_MARKER into the guest's vda (the root volume), at ROOT_MARKER_OFFSET, and says so.
ROOT_WRITER = f"""#!/bin/sh
exec >/dev/console 2>&1
echo "ROOT-DISKS=$(ls /sys/block | grep '^vd' | tr '\\n' ' ')"
echo "VDA-SECTORS=$(cat /sys/block/vda/size)"
echo {ROOT_MARKER} | dd of=/dev/vda bs=512 seek={ROOT_MARKER_OFFSET // 512} count=1 conv=sync,notrunc 2>/dev/null \\
    && sync && echo "WROTE-ROOT-MARKER"
"""


def test_boot_a_real_guest_from_a_volume_made_from_the_test_image(cloud: Cloud, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    conn = cloud.connection()
    image_id = upload_test_image(conn, str(tmp_path_factory.mktemp("bfv-image")))
    flavor = conn.compute.create_flavor(name="bfv.tiny", ram=256, vcpus=1, disk=1)
    made = conn.compute.post("/servers", json={"server": {
        "name": "from-volume", "flavorRef": flavor.id, "imageRef": "", "networks": "none",
        "user_data": base64.b64encode(ROOT_WRITER.encode()).decode(),
        "block_device_mapping_v2": [{"boot_index": 0, "source_type": "image", "uuid": image_id,
                                     "destination_type": "volume", "volume_size": 1,
                                     "delete_on_termination": False}]}},
        headers={"OpenStack-API-Version": "compute 2.79"})
    assert made.status_code == 202, made.text
    server = wait_for_status(conn, made.json()["server"]["id"], "ACTIVE", timeout=180)
    attached = conn.compute.get(f"/servers/{server.id}", headers={"OpenStack-API-Version": "compute 2.79"}
                                ).json()["server"]
    assert attached["image"] == ""
    [root] = attached["os-extended-volumes:volumes_attached"]
    volume_id = root["id"]
    volume = conn.block_storage.get_volume(volume_id)
    assert volume.status == "in-use" and volume.is_bootable and volume.size == 1

    # The guest's vda is the volume's NBD export, its first disk; nothing on the host's disk stands in for it.
    [disk] = _network_disks(server.id)
    assert disk.find("source").get("protocol") == "nbd" and disk.find("source").get("name") == f"volume-{volume_id}"
    assert disk.find("target").get("dev") == "vda"
    text = console_until(conn, server, "WROTE-ROOT-MARKER", timeout=120)
    assert "NUBIS-GUEST-UP" in text and f"VDA-SECTORS={2 * 1024 * 1024}" in text  # 1 GiB

    # The root volume cannot be detached; what would rebuild the guest from an image is refused.
    detach = conn.compute.delete(f"/servers/{server.id}/os-volume_attachments/{volume_id}")
    assert detach.status_code == 400
    resize = conn.compute.post(f"/servers/{server.id}/action", json={"resize": {"flavorRef": flavor.id}})
    assert resize.status_code == 409 and "not supported yet" in resize.text

    # delete_on_termination false: the volume outlives the server, with what the guest wrote to its root disk.
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=60)
    conn.block_storage.wait_for_status(volume, "available", wait=30)
    state = cloud.aio.options.state_dir
    with open(os.path.join(state, "volumes", f"volume-{volume_id}"), "rb") as f:
        f.seek(ROOT_MARKER_OFFSET)
        assert f.read(len(ROOT_MARKER)).decode() == ROOT_MARKER
    assert domains() == []
    conn.block_storage.delete_volume(volume)
    conn.block_storage.wait_for_delete(volume, wait=30)
