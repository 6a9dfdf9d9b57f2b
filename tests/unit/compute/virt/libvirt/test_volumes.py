"""Volumes as libvirt network disks: the disk element from Cinder's connection_info and the target choice."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from nubis.compute.virt.libvirt import volumes

NBD = {"driver_volume_type": "nbd", "data": {"host": "127.0.0.1", "port": 10809, "name": "volume-abc"}}
DOMAIN = """<domain><devices>
  <disk type='file' device='disk'><source file='/x/disk'/><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='disk'><source file='/x/disk.config'/><target dev='vdb' bus='virtio'/></disk>
</devices></domain>"""


def test_nbd_disk_element() -> None:
    disk = ET.fromstring(volumes.disk_xml(NBD, "vdc"))
    assert (disk.get("type"), disk.get("device")) == ("network", "disk")
    assert disk.find("driver").attrib == {"name": "qemu", "type": "raw", "cache": "none"}
    assert disk.find("source").attrib == {"protocol": "nbd", "name": "volume-abc"}
    assert disk.find("source/host").attrib == {"name": "127.0.0.1", "port": "10809"}
    assert disk.find("target").attrib == {"dev": "vdc", "bus": "virtio"}
    assert disk.find("readonly") is None
    ro = ET.fromstring(volumes.disk_xml({**NBD, "data": {**NBD["data"], "access_mode": "ro"}}, "vdc"))
    assert ro.find("readonly") is not None


@pytest.mark.parametrize("info", [{"driver_volume_type": "iscsi", "data": {}}, {"driver_volume_type": "nbd"},
                                  {"driver_volume_type": "nbd", "data": {"host": "h", "port": "x", "name": "n"}}])
def test_unsupported_or_incomplete_connection_info_is_refused(info: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(volumes.UnsupportedVolume):
        volumes.disk_xml(info, "vdc")


def test_targets_skip_the_guests_own_disks() -> None:
    assert volumes.used_targets(DOMAIN) == {"vda", "vdb"}
    assert volumes.free_target(DOMAIN, "/dev/vdb") == "vdc"  # the config drive has vdb
    assert volumes.free_target(DOMAIN, "/dev/vde") == "vde"
    assert volumes.find_disk(DOMAIN, "/dev/vdb") is not None and volumes.find_disk(DOMAIN, "vdz") is None
