"""Guest power operations and lifecycle events against the real libvirtd (qemu/TCG)."""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

from nubis.compute.virt.libvirt import connection  # noqa: E402
from tests import fixtures  # noqa: E402

pytestmark = pytest.mark.e2e


def _bare_guest(name: str, guest_uuid: str, console_log: str) -> str:
    """A guest with no disk: it sits in the firmware, enough to drive power states."""
    dom = ET.Element("domain", type="qemu")
    ET.SubElement(dom, "name").text = name
    ET.SubElement(dom, "uuid").text = guest_uuid
    ET.SubElement(dom, "memory", unit="MiB").text = "64"
    ET.SubElement(dom, "vcpu").text = "1"
    os_ = ET.SubElement(dom, "os")
    ET.SubElement(os_, "type", arch="x86_64", machine="pc").text = "hvm"
    devices = ET.SubElement(dom, "devices")
    serial = ET.SubElement(devices, "serial", type="file")
    ET.SubElement(serial, "source", path=console_log)
    ET.SubElement(devices, "memballoon", model="none")
    return ET.tostring(dom, encoding="unicode")


@pytest.fixture
def conn():  # type: ignore[no-untyped-def]
    try:
        libvirt.open("qemu:///system").close()
    except libvirt.libvirtError as exc:
        pytest.fail(f"libvirtd is not running: {exc}")
    events: list[tuple[str, connection.PowerState]] = []
    c = connection.Connection("qemu:///system", on_event=lambda u, s: events.append((u, s)))
    c.events = events  # type: ignore[attr-defined]
    yield c
    c.close()


def _wait(predicate, timeout: float = 20) -> bool:  # type: ignore[no-untyped-def]
    return bool(fixtures.wait_until(predicate, timeout=timeout, what="the libvirt event"))


def test_guest_power_lifecycle(conn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    guest = str(uuid.uuid4())
    log = tmp_path / "console.log"
    xml = _bare_guest(f"nubis-test-{guest[:8]}", guest, str(log))
    try:
        conn.define_and_start(xml)
        assert conn.power_state(guest) == connection.PowerState.RUNNING
        assert _wait(lambda: (guest, connection.PowerState.RUNNING) in conn.events)
        conn.pause(guest)
        assert conn.power_state(guest) == connection.PowerState.PAUSED
        conn.unpause(guest)
        assert conn.power_state(guest) == connection.PowerState.RUNNING
        conn.suspend(guest)
        assert conn.power_state(guest) == connection.PowerState.SHUTDOWN
        assert conn.has_managed_save(guest)
        conn.start(guest)  # restores the managed save
        assert conn.power_state(guest) == connection.PowerState.RUNNING
        assert not conn.has_managed_save(guest)
        # The firmware ignores ACPI: the soft stop must fall back to a power off.
        assert conn.stop(guest, timeout=1) is False
        assert conn.power_state(guest) == connection.PowerState.SHUTDOWN
        conn.reboot(guest, hard=True)
        assert conn.power_state(guest) == connection.PowerState.RUNNING
    finally:
        conn.destroy(guest)
    assert not conn.exists(guest)
    assert guest not in conn.list_uuids()


def test_failed_start_leaves_no_definition(conn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    guest = str(uuid.uuid4())
    xml = _bare_guest(f"nubis-test-{guest[:8]}", guest, str(tmp_path / "c.log"))
    broken = xml.replace("<memballoon", '<disk type="file" device="disk"><source file="/nonexistent/disk.qcow2"/>'
                                       '<target dev="vda" bus="virtio"/></disk><memballoon')
    with pytest.raises(connection.LibvirtError) as info:
        conn.define_and_start(broken)
    assert "nonexistent" in str(info.value) or "No such file" in str(info.value)
    assert not conn.exists(guest)


def test_missing_guest_is_reported(conn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(connection.GuestNotFound):
        conn.power_state(str(uuid.uuid4()))
    conn.destroy(str(uuid.uuid4()))  # destroying what is gone is not an error


def test_concurrent_lookups_share_one_connection(conn) -> None:  # type: ignore[no-untyped-def]
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(id(conn.get()))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1
