"""Remote consoles in the domain XML: VNC/SPICE graphics on autoport, the serial console as a TCP chardev,
and reading the ports back from a live domain's XML."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from nubis.compute.virt.libvirt import domain

BASE = domain.Domain(uuid="9a0d5a5e-0000-4000-8000-000000000001", name="web", vcpus=1, memory_kib=1024,
                     console_log="/i/console.log")


def test_graphics_and_a_serial_tcp_console_that_keeps_the_log() -> None:
    d = dataclasses.replace(BASE, graphics=(domain.Graphics("vnc", "10.0.0.5"),),
                            serial_tcp=domain.SerialTcp("10.0.0.5", 10001))
    root = ET.fromstring(domain.to_xml(d))
    serials = root.findall("devices/serial")
    assert [s.get("type") for s in serials] == ["tcp"]  # the console (ttyS0) is the socket...
    tcp = serials[0]
    assert tcp.find("source").attrib == {"mode": "bind", "host": "10.0.0.5", "service": "10001"}  # type: ignore[union-attr]
    assert tcp.find("protocol").get("type") == "raw" and tcp.find("target").get("port") == "0"  # type: ignore[union-attr]
    assert tcp.find("log").attrib == {"file": "/i/console.log", "append": "on"}  # type: ignore[union-attr]  # ...logged
    graphics = root.find("devices/graphics")
    assert graphics is not None and graphics.attrib == {"type": "vnc", "autoport": "yes", "listen": "10.0.0.5"}
    assert graphics.find("listen").attrib == {"type": "address", "address": "10.0.0.5"}  # type: ignore[union-attr]
    assert root.find("devices/video/model") is not None


def test_a_guest_without_consoles_has_no_graphics() -> None:
    root = ET.fromstring(domain.to_xml(BASE))
    assert root.find("devices/graphics") is None and len(root.findall("devices/serial")) == 1


def test_console_ports_come_from_the_live_xml() -> None:
    live = ("<domain><devices>"
            "<serial type='file'><source path='/i/console.log'/><target port='0'/></serial>"
            "<serial type='tcp'><source mode='bind' host='10.0.0.5' service='10001'/><target port='1'/></serial>"
            "<graphics type='vnc' port='5901' autoport='yes' listen='10.0.0.5'/>"
            "<graphics type='spice' port='-1' autoport='yes'/>"
            "</devices></domain>")
    assert domain.console_ports(live) == {"vnc": ("10.0.0.5", 5901), "serial": ("10.0.0.5", 10001)}


def test_stable_device_rescue_adds_the_rescue_disk_first_in_boot_order() -> None:
    own = domain.to_xml(dataclasses.replace(BASE, disks=(domain.Disk("/i/disk", "vda"),
                                                         domain.Disk("/i/disk.config", "vdb", format="raw"))))
    root = ET.fromstring(domain.with_rescue_device(own, "/i/disk.rescue", "cdrom", "sata"))
    assert root.find("os/boot") is None
    targets = [(d.find("source").get("file"), d.find("target").get("dev"), d.get("device"))  # type: ignore[union-attr]
               for d in root.iterfind("devices/disk")]
    assert targets == [("/i/disk", "vda", "disk"), ("/i/disk.config", "vdb", "disk"),
                       ("/i/disk.rescue", "sda", "cdrom")]
    rescue = root.findall("devices/disk")[-1]
    assert rescue.find("boot").get("order") == "1" and rescue.find("readonly") is not None  # type: ignore[union-attr]
    virtio = ET.fromstring(domain.with_rescue_device(own, "/i/disk.rescue", "disk", "virtio"))
    assert virtio.findall("devices/disk")[-1].find("target").get("dev") == "vdc"  # type: ignore[union-attr]


def test_stable_device_rescue_refuses_unknown_devices() -> None:
    import pytest

    with pytest.raises(ValueError, match="hw_rescue_device"):
        domain.with_rescue_device(domain.to_xml(BASE), "/i/disk.rescue", "floppy", "virtio")
