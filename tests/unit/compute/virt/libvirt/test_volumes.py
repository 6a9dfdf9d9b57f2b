"""Volumes as libvirt network disks: the disk element from Cinder's connection_info and the target choice."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from nubis.compute.virt.libvirt import volumes

NBD: dict[str, Any] = {"driver_volume_type": "nbd", "data": {"host": "127.0.0.1", "port": 10809, "name": "volume-abc"}}
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


def test_front_end_qos_specs_become_the_disks_iotune() -> None:
    """Cinder's data.qos_specs (the type's front-end QoS specs, strings) are the network disk's <iotune>, as Nova's
    libvirt volume driver sets them: the keys libvirt knows, positive integers only, in libvirt's order."""
    specs = {"total_bytes_sec": "10485760", "read_iops_sec": "2000", "write_iops_sec": "1000",
             "total_iops_sec_max": "5000", "size_iops_sec": "4096", "read_bytes_sec_max": "0",
             "write_bytes_sec": "fast", "consumer_note": "x", "read_bytes_sec": "-1"}
    disk = ET.fromstring(volumes.disk_xml({**NBD, "data": {**NBD["data"], "qos_specs": specs}}, "vdc"))
    tune = disk.find("iotune")
    assert tune is not None
    assert [(e.tag, e.text) for e in tune] == [("total_bytes_sec", "10485760"), ("read_iops_sec", "2000"),
                                               ("write_iops_sec", "1000"), ("total_iops_sec_max", "5000"),
                                               ("size_iops_sec", "4096")]
    # The disk is otherwise the same network disk.
    source = disk.find("source")
    assert source is not None and source.attrib == {"protocol": "nbd", "name": "volume-abc"}


@pytest.mark.parametrize("qos", [None, {}, {"read_bytes_sec": "0"}, "not-a-dict"])
def test_no_front_end_qos_specs_no_iotune(qos: object) -> None:
    disk = ET.fromstring(volumes.disk_xml({**NBD, "data": {**NBD["data"], "qos_specs": qos}}, "vdc"))
    assert disk.find("iotune") is None
