"""A real guest's consoles and rescue: QEMU's VNC server through nubis-novncproxy, the guest's ttyS0 through
nubis-serialproxy, rescue booting the rescue image with the guest's own disk second, and an NMI."""

from __future__ import annotations

import os
import shutil
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

libvirt = pytest.importorskip("libvirt")

from tests.e2e.guests import console_until, instances_dir, upload_test_image  # noqa: E402
from tests.functional.cloud import Cloud, running_cloud  # noqa: E402
from tests.functional.compute.conftest import wait_for_status  # noqa: E402
from tools.console_client import ConsoleClient, open_console  # noqa: E402

pytestmark = pytest.mark.e2e

SERVICES = ["image", "placement", "scheduler", "compute-api", "conductor", "compute", "novncproxy", "serialproxy"]
# Printed on ttyS0 every second, with the disks the guest sees.
TICKER = "#!/bin/sh\nwhile true; do echo \"NUBIS-TICK $(ls /dev/vd? | tr '\\n' ' ')\"; sleep 1; done\n"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[Cloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("libvirt-consoles")
    instances = instances_dir("nubis-e2e-consoles-")
    config = {"identity": {"password_hash_rounds": "4"},
              "compute": {"report_interval": "1", "sync_power_state_interval": "0"},
              "libvirt": {"virt_type": "qemu", "force_config_drive": "true", "shutdown_timeout": "5",
                          "instances_path": instances}}
    try:
        with running_cloud(tmp / "cloud", SERVICES, virt="libvirt", extra_config=config) as c:
            yield c
    finally:
        shutil.rmtree(instances, ignore_errors=True)


def _console_url(conn: Any, server_id: str, protocol: str, kind: str) -> str:
    resp = conn.compute.post(f"/servers/{server_id}/remote-consoles", microversion="2.6",
                             json={"remote_console": {"protocol": protocol, "type": kind}})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["remote_console"]["url"])


def _open(url: str) -> ConsoleClient:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    if "path" in query:  # noVNC's form
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(query["path"][0]).query)
    return open_console(url, query["token"][0], origin=f"http://{parts.hostname}:{parts.port}")


def _read_until(client: ConsoleClient, marker: bytes, timeout: float = 60) -> bytes:
    client.socket.settimeout(timeout)
    data, deadline = b"", time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        chunk = client.recv()
        if chunk is None:
            break
        data += chunk
    assert marker in data, data[-2000:]
    return data


def _disks(uuid: str) -> list[tuple[str, str]]:
    conn = libvirt.open("qemu:///system")
    try:
        root = ET.fromstring(conn.lookupByUUIDString(uuid).XMLDesc(0))
    finally:
        conn.close()
    return [(os.path.basename(d.find("source").get("file")), d.find("target").get("dev"))  # type: ignore[union-attr]
            for d in root.iterfind("devices/disk")]


def test_consoles_rescue_and_crash_dump_of_a_real_guest(cloud: Cloud, tmp_path: Any) -> None:
    conn = cloud.connection()
    image_id = upload_test_image(conn, str(tmp_path / "image"))
    flavor = conn.compute.create_flavor(name="c1.tiny", ram=256, vcpus=1, disk=1)
    server = conn.compute.create_server(name="console-vm", image_id=image_id, flavor_id=flavor.id, networks="none",
                                        user_data=__import__("base64").b64encode(TICKER.encode()).decode())
    server = wait_for_status(conn, server.id, "ACTIVE", timeout=120)
    # The console log still fills while ttyS0 is the serial proxy's socket.
    assert "NUBIS-GUEST-UP" in console_until(conn, server, "NUBIS-READY")

    vnc = _open(_console_url(conn, server.id, "vnc", "novnc"))
    assert _read_until(vnc, b"RFB 003.008\n", timeout=30).startswith(b"RFB 003.008\n")  # QEMU's own VNC server
    vnc.close()
    serial = _open(_console_url(conn, server.id, "serial", "serial"))
    _read_until(serial, b"NUBIS-TICK /dev/vda /dev/vdb")  # its root disk and config drive
    serial.close()

    # What libvirt counts for the running guest: its vCPU time, its memory, its root disk's reads.
    diag = conn.compute.get(f"/servers/{server.id}/diagnostics", microversion="2.48")
    assert diag.status_code == 200, diag.text
    body = diag.json()
    assert body["state"] == "running" and body["driver"] == "libvirt" and body["hypervisor"] == "qemu"
    assert body["num_cpus"] == 1 and body["cpu_details"][0]["time"] > 0
    assert body["memory_details"]["maximum"] == 256 and body["config_drive"] is True
    assert body["num_disks"] == 2 and body["disk_details"][0]["read_bytes"] > 0  # root disk + config drive
    # The test image declares no QEMU guest agent, so there is nothing to set a password through: Nova's 409.
    refused = conn.compute.post(f"/servers/{server.id}/action", json={"changePassword": {"adminPass": "pw"}})
    assert refused.status_code == 409 and "guest agent" in refused.text, refused.text
    wait_for_status(conn, server.id, "ACTIVE", timeout=30)

    resp = conn.compute.post(f"/servers/{server.id}/action", json={"rescue": {"adminPass": "rescue-me"}})
    assert resp.status_code == 200 and resp.json() == {"adminPass": "rescue-me"}, resp.text
    wait_for_status(conn, server.id, "RESCUE", timeout=120)
    assert _disks(server.id)[:2] == [("disk.rescue", "vda"), ("disk", "vdb")]
    serial = _open(_console_url(conn, server.id, "serial", "serial"))
    _read_until(serial, b"NUBIS-TICK /dev/vda /dev/vdb /dev/vdc", timeout=120)  # booted the rescue image
    serial.close()

    assert conn.compute.post(f"/servers/{server.id}/action", json={"unrescue": None}).status_code == 202
    wait_for_status(conn, server.id, "ACTIVE", timeout=120)
    assert _disks(server.id)[0] == ("disk", "vda")
    assert not os.path.exists(os.path.join(cloud.aio.runtime.conf.libvirt.instances_path,  # type: ignore[union-attr]
                                           server.id, "disk.rescue"))

    dumped = conn.compute.post(f"/servers/{server.id}/action", json={"trigger_crash_dump": None},
                               microversion="2.17")
    assert dumped.status_code == 202, dumped.text
    request_id = dumped.headers["x-openstack-request-id"]
    time.sleep(5)  # the agent injects it (a cast); a failure would end the action with "Error" and a fault
    action = conn.compute.get(f"/servers/{server.id}/os-instance-actions/{request_id}").json()["instanceAction"]
    assert action["message"] is None, conn.compute.get_server(server.id).fault
    # libvirt took the NMI (the action ended well). The test kernel under TCG prints nothing for it, so what the
    # guest did with it is not asserted here.
    assert {"rescue", "unrescue", "trigger_crash_dump"} <= {a.action for a in conn.compute.server_actions(server.id)}

    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=60)
    conn.image.delete_image(image_id)
