"""The libvirt driver grows an extended volume's disk in the running guest: ``virDomain.blockResize`` in bytes on
the volume's target (libvirt's test hypervisor has no blockResize, so the domain here records the calls)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import libvirt
import pytest

from nubis.common import config
from nubis.compute import conf as compute_conf
from nubis.compute.virt.driver import DriverError
from nubis.compute.virt.libvirt.connection import Connection
from nubis.compute.virt.libvirt.driver import LibvirtDriver

UUID = "77777777-7777-7777-7777-777777777777"
XML = """<domain><devices>
  <disk type='file' device='disk'><source file='/x/disk'/><target dev='vda' bus='virtio'/></disk>
  <disk type='network' device='disk'><source protocol='nbd' name='volume-v1'><host name='127.0.0.1' port='10809'/>
  </source><target dev='vdb' bus='virtio'/></disk>
</devices></domain>"""


class _Domain:
    """A running (or stopped) guest with a volume at vdb; records blockResize calls, or fails them."""

    def __init__(self, active: bool, error: str | None = None) -> None:
        self.active, self.error = active, error
        self.resized: list[tuple[str, int, int]] = []

    def isActive(self) -> int:  # noqa: N802 - libvirt's name
        return int(self.active)

    def XMLDesc(self, flags: int) -> str:  # noqa: N802 - libvirt's name
        return XML

    def blockResize(self, disk: str, size: int, flags: int) -> int:  # noqa: N802 - libvirt's name
        if self.error is not None:
            raise libvirt.libvirtError(self.error)
        self.resized.append((disk, size, flags))
        return 0


class _Connection(Connection):
    def __init__(self, dom: _Domain) -> None:
        super().__init__("test:///default")
        self.dom = dom

    def lookup(self, uuid: str) -> Any:
        return self.dom


def _driver(tmp_path: Path, dom: _Domain) -> LibvirtDriver:
    conf = config.new_conf()
    for group, opts in compute_conf.list_opts():
        conf.register_opts(opts, group=group)
    conf([], default_config_files=[])
    conf.set_override("instances_path", str(tmp_path / "instances"), group="libvirt")
    return LibvirtDriver(conf, None, connection=_Connection(dom))


def test_a_running_guest_is_told_the_new_size_in_bytes(tmp_path: Path) -> None:
    dom = _Domain(active=True)
    _driver(tmp_path, dom).extend_volume(UUID, "/dev/vdb", 2 * 1024 ** 3)
    assert dom.resized == [("vdb", 2 * 1024 ** 3, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)]


def test_a_stopped_guest_reads_the_size_when_it_starts(tmp_path: Path) -> None:
    dom = _Domain(active=False)
    _driver(tmp_path, dom).extend_volume(UUID, "/dev/vdb", 2 * 1024 ** 3)
    assert dom.resized == []


def test_a_missing_disk_or_a_refusal_is_a_driver_error(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="no disk vdc"):
        _driver(tmp_path, _Domain(active=True)).extend_volume(UUID, "/dev/vdc", 2 * 1024 ** 3)
    refusing = _Domain(active=True, error="Cannot grow NBD nodes")
    with pytest.raises(DriverError, match="growing vdb of guest .* failed"):
        _driver(tmp_path, refusing).extend_volume(UUID, "/dev/vdb", 2 * 1024 ** 3)
