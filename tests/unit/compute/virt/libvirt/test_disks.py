"""qemu-img overlays and config drives, with the real tools."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from nubis.compute.virt.libvirt import configdrive, disks

needs_qemu_img = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img is installed by run_tests.sh")


@needs_qemu_img
def test_overlay_grows_to_flavor_and_keeps_base(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = tmp_path / "base.raw"
    base.write_bytes(b"\x01" * (1024 * 1024))
    overlay = tmp_path / "disk"
    disks.create_overlay(str(base), str(overlay), size_gb=1)
    meta = disks.info(str(overlay))
    assert meta["format"] == "qcow2"
    assert meta["virtual-size"] == disks.GIB
    assert meta["backing-filename"] == str(base)


@needs_qemu_img
def test_overlay_refuses_to_shrink(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = tmp_path / "base.qcow2"
    disks.create_blank(str(base), 2048)
    with pytest.raises(disks.DiskError) as info:
        disks.create_overlay(str(base), str(tmp_path / "disk"), size_gb=1)
    assert "smaller than the image" in str(info.value)


@needs_qemu_img
def test_convert_flattens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = tmp_path / "base.raw"
    base.write_bytes(b"\x02" * 65536)
    disks.create_overlay(str(base), str(tmp_path / "disk"), None)
    disks.convert(str(tmp_path / "disk"), str(tmp_path / "snap"))
    assert "backing-filename" not in disks.info(str(tmp_path / "snap"))


@pytest.mark.skipif(shutil.which("genisoimage") is None, reason="genisoimage is installed by run_tests.sh")
def test_config_drive_layout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    iso = tmp_path / "disk.config"
    configdrive.build(str(iso), {
        "openstack/latest/meta_data.json": b'{"uuid": "abc"}',
        "openstack/latest/user_data": b"#!/bin/sh\necho hi\n",
    })
    listing = subprocess.run(["isoinfo", "-d", "-i", str(iso)], capture_output=True, text=True).stdout
    assert "Volume id: config-2" in listing
    files = subprocess.run(["isoinfo", "-R", "-f", "-i", str(iso)], capture_output=True, text=True).stdout
    assert "/openstack/latest/meta_data.json" in files
    with pytest.raises(configdrive.ConfigDriveError):
        configdrive.build(str(tmp_path / "x.iso"), {"../escape": b""})
