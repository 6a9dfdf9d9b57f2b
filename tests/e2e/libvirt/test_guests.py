"""Real guests: the all-in-one with the libvirt driver (qemu/TCG) boots the test image through the API."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

libvirt = pytest.importorskip("libvirt")

from tests.e2e.guests import console_until, domains, instances_dir, upload_test_image  # noqa: E402
from tests.functional.cloud import Cloud, running_cloud  # noqa: E402
from tests.functional.compute.conftest import wait_for_status  # noqa: E402

pytestmark = pytest.mark.e2e

SERVICES = ["image", "placement", "scheduler", "compute-api", "conductor", "compute"]


def _hugepages() -> int:
    with open("/proc/meminfo") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("HugePages_Total"))


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[Cloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("libvirt-cloud")
    instances = instances_dir("nubis-e2e-instances-")
    config = {"identity": {"password_hash_rounds": "4"},
              "compute": {"report_interval": "1", "sync_power_state_interval": "0"},
              # CPU 1 for pinned guests, CPU 0 for everything else (these machines have two).
              "libvirt": {"virt_type": "qemu", "force_config_drive": "true", "shutdown_timeout": "10",
                          "instances_path": instances, "cpu_dedicated_set": "1",
                          "cpu_shared_set": "0"}}
    try:
        with running_cloud(tmp / "cloud", SERVICES, virt="libvirt", extra_config=config) as c:
            yield c
    finally:
        shutil.rmtree(instances, ignore_errors=True)


@pytest.fixture(scope="module")
def image_id(cloud: Cloud, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    return upload_test_image(cloud.connection(), str(tmp_path_factory.mktemp("test-image")))


def _live_xml(uuid: str) -> ET.Element:
    conn = libvirt.open("qemu:///system")
    try:
        return ET.fromstring(conn.lookupByUUIDString(uuid).XMLDesc(0))
    finally:
        conn.close()


def _is_active(uuid: str) -> bool:
    conn = libvirt.open("qemu:///system")
    try:
        return bool(conn.lookupByUUIDString(uuid).isActive())
    finally:
        conn.close()


def test_a_real_guest_through_its_life(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connection()
    flavor = conn.compute.create_flavor(name="g1.tiny", ram=256, vcpus=1, disk=1)
    key = conn.compute.create_keypair(name="e2e-key")
    server = conn.compute.create_server(name="first-vm", image_id=image_id, flavor_id=flavor.id, networks="none",
                                        key_name=key.name)
    server = wait_for_status(conn, server.id, "ACTIVE", timeout=120)
    text = console_until(conn, server, "NUBIS-READY")
    assert "NUBIS-GUEST-UP" in text and f"NUBIS-UUID={server.id}" in text and "NUBIS-HOSTNAME=first-vm" in text
    assert "NUBIS-METADATA-SOURCE=config-drive" in text and key.public_key.split()[1][:40] in text
    instance_dir = os.path.join(cloud.aio.runtime.conf.libvirt.instances_path, server.id)  # type: ignore[union-attr]
    assert os.path.exists(os.path.join(instance_dir, "disk"))

    for act, status in ((conn.compute.stop_server, "SHUTOFF"), (conn.compute.start_server, "ACTIVE"),
                        (conn.compute.pause_server, "PAUSED"), (conn.compute.unpause_server, "ACTIVE"),
                        (conn.compute.suspend_server, "SUSPENDED"), (conn.compute.resume_server, "ACTIVE")):
        act(server)
        wait_for_status(conn, server.id, status, timeout=120)
    conn.compute.reboot_server(server, "HARD")
    wait_for_status(conn, server.id, "ACTIVE", timeout=120)

    bigger = conn.compute.create_flavor(name="g1.small", ram=320, vcpus=1, disk=2)
    conn.compute.resize_server(server, bigger.id)
    wait_for_status(conn, server.id, "VERIFY_RESIZE", timeout=120)
    assert _live_xml(server.id).findtext("memory") == str(320 * 1024)
    conn.compute.confirm_server_resize(server)
    wait_for_status(conn, server.id, "ACTIVE", timeout=60)
    refused = conn.compute.post(f"/servers/{server.id}/action", json={"migrate": None},
                                microversion="2.56")
    assert refused.status_code == 400 and "not supported yet" in refused.json()["badRequest"]["message"]

    snapshot = conn.compute.create_server_image(server, name="first-vm-snap", wait=True, timeout=120)
    assert snapshot.status == "active" and snapshot.disk_format == "qcow2"
    again = conn.compute.create_server(name="from-snapshot", image_id=snapshot.id, flavor_id=bigger.id,
                                       networks="none")  # the snapshot's min_disk is the resized root disk
    again = wait_for_status(conn, again.id, "ACTIVE", timeout=120)
    assert f"NUBIS-UUID={again.id}" in console_until(conn, again, "NUBIS-READY")

    # The guest dies behind Nubis's back: libvirt's lifecycle event makes it SHUTOFF (periodic sync is off here).
    lv = libvirt.open("qemu:///system")
    try:
        lv.lookupByUUIDString(again.id).destroy()
    finally:
        lv.close()
    assert wait_for_status(conn, again.id, "SHUTOFF", timeout=15).power_state == 4
    # A stopped server stays stopped through a rebuild and a resize, as in Nova: its domain is never started.
    conn.compute.rebuild_server(again, image=snapshot.id)
    assert wait_for_status(conn, again.id, "SHUTOFF", timeout=120).power_state == 4 and not _is_active(again.id)
    medium = conn.compute.create_flavor(name="g1.medium", ram=384, vcpus=1, disk=2)
    conn.compute.resize_server(again, medium.id)
    assert wait_for_status(conn, again.id, "VERIFY_RESIZE", timeout=120).power_state == 4
    assert not _is_active(again.id) and _live_xml(again.id).findtext("memory") == str(384 * 1024)
    conn.compute.confirm_server_resize(again)
    assert wait_for_status(conn, again.id, "SHUTOFF", timeout=60).power_state == 4 and not _is_active(again.id)

    for s in (server, again):
        conn.compute.delete_server(s.id)
    for s in (server, again):
        conn.compute.wait_for_delete(s, wait=60)
    assert domains() == [] and not os.path.exists(instance_dir)
    cache = os.path.join(cloud.aio.runtime.conf.libvirt.instances_path, "_base")  # type: ignore[union-attr]
    assert not [name for name in os.listdir(cache) if name.endswith(".lock") or name.startswith(".part-")]
    conn.image.delete_image(snapshot)


@pytest.mark.skipif(_hugepages() < 64, reason="needs 2 MiB huge pages (run_tests.sh reserves them)")
def test_pinned_hugepage_guests_never_share_a_cpu(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connection()
    flavor = conn.compute.create_flavor(name="g1.pinned", ram=128, vcpus=1, disk=1)
    conn.compute.create_flavor_extra_specs(flavor, {"hw:cpu_policy": "dedicated", "hw:mem_page_size": "2MB"})
    first = conn.compute.create_server(name="pinned-1", image_id=image_id, flavor_id=flavor.id, networks="none")
    first = wait_for_status(conn, first.id, "ACTIVE", timeout=120)
    live = _live_xml(first.id)
    assert [(p.get("vcpu"), p.get("cpuset")) for p in live.iterfind("cputune/vcpupin")] == [("0", "1")]
    assert live.find("cputune/emulatorpin").get("cpuset") == "0"
    assert live.find("numatune/memnode").get("nodeset") == "0"
    assert live.find("memoryBacking/hugepages/page").get("size") == "2048"
    assert "NUBIS-GUEST-UP" in console_until(conn, first, "NUBIS-GUEST-UP")

    # The host has one dedicated CPU, and it is taken: a second pinned guest must not share it.
    second = conn.compute.create_server(name="pinned-2", image_id=image_id, flavor_id=flavor.id, networks="none")
    second = wait_for_status(conn, second.id, "ERROR", timeout=60)
    assert "PCPU" in second.fault["message"], second.fault
    for s in (first, second):
        conn.compute.delete_server(s.id)
    for s in (first, second):
        conn.compute.wait_for_delete(s, wait=60)
    assert domains() == []
