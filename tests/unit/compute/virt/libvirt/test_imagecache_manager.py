"""The image cache manager pass over real files: real qcow2 overlays made by qemu-img back onto cached bases."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from nubis.compute.virt.libvirt import disks, domain, imagecache

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img is installed by run_tests.sh")

DAY = 86400


def _cached(cache: imagecache.ImageCache, image_id: str, age_s: float) -> str:
    """A base in the cache (a small qcow2, as an image download leaves one) last used ``age_s`` seconds ago."""
    scratch = Path(cache.base_dir).parent / f".scratch-{image_id}"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(scratch), "64M"], check=True)
    data = scratch.read_bytes()
    scratch.unlink()
    path = cache.fetch(image_id, "sha512", hashlib.sha512(data).hexdigest(), lambda f: f.write(data))
    _age(path, age_s)
    return path


def _age(path: str, age_s: float) -> None:
    then = time.time() - age_s
    os.utime(path, (then, then))


def _instance(instances: Path, uuid: str, base: str) -> Path:
    workdir = instances / uuid
    workdir.mkdir()
    disks.create_overlay(base, str(workdir / "disk"), None)
    (workdir / "console.log").write_text("booted\n")
    return workdir


@pytest.fixture
def host(tmp_path: Path) -> tuple[Path, imagecache.ImageCache]:
    return tmp_path, imagecache.ImageCache(str(tmp_path / "_base"))


def test_used_base_is_kept_unused_old_removed_unused_young_kept(host) -> None:  # type: ignore[no-untyped-def]
    instances, cache = host
    used = _cached(cache, "used", age_s=3 * DAY)  # old, but a guest's disk backs onto it
    old = _cached(cache, "old", age_s=2 * DAY)
    young = _cached(cache, "young", age_s=60)
    _instance(instances, "11111111-1111-1111-1111-111111111111", used)

    in_use = imagecache.files_in_use(str(instances))
    assert used in in_use and old not in in_use and young not in in_use
    assert cache.manage(in_use, max_age_s=DAY) == [old]

    assert os.path.exists(used) and os.path.exists(young) and not os.path.exists(old)
    # The pass marked the used base used now: once its guest is gone, it ages from this pass on.
    assert time.time() - os.path.getmtime(used) < 60


def test_base_of_a_deleted_guest_ages_from_its_last_use(host) -> None:  # type: ignore[no-untyped-def]
    instances, cache = host
    base = _cached(cache, "image", age_s=3 * DAY)
    workdir = _instance(instances, "22222222-2222-2222-2222-222222222222", base)
    assert cache.manage(imagecache.files_in_use(str(instances)), max_age_s=DAY) == []
    shutil.rmtree(workdir)  # the server is deleted
    assert cache.manage(imagecache.files_in_use(str(instances)), max_age_s=DAY) == []  # used a moment ago
    _age(base, DAY + 60)
    assert cache.manage(imagecache.files_in_use(str(instances)), max_age_s=DAY) == [base]


def test_whole_backing_chain_and_domain_files_count(host) -> None:  # type: ignore[no-untyped-def]
    instances, cache = host
    base = _cached(cache, "chained", age_s=3 * DAY)
    kernel = _cached(cache, "kernel", age_s=3 * DAY)
    ramdisk = _cached(cache, "ramdisk", age_s=3 * DAY)
    rescue = _cached(cache, "rescue", age_s=3 * DAY)
    workdir = instances / "33333333-3333-3333-3333-333333333333"
    workdir.mkdir()
    middle = workdir / "disk.middle"  # disk -> disk.middle -> base
    disks.create_overlay(base, str(middle), None)
    disks.create_overlay(str(middle), str(workdir / "disk"), None)
    assert disks.backing_files(str(workdir / "disk")) == [str(middle), base]
    # A rescue disk kept outside the instance directories is only named by the domain; so are kernel and ramdisk.
    elsewhere = instances / ".rescue-disk"
    disks.create_overlay(rescue, str(elsewhere), None)
    xml = (f"<domain><os><kernel>{kernel}</kernel><initrd>{ramdisk}</initrd></os><devices>"
           f"<disk type='file'><source file='{elsewhere}'/></disk></devices></domain>")

    in_use = imagecache.files_in_use(str(instances), domain.files(xml))
    assert cache.manage(in_use, max_age_s=DAY) == []
    assert {base, kernel, ramdisk, rescue} <= in_use


def test_zero_keeps_everything(host) -> None:  # type: ignore[no-untyped-def]
    instances, cache = host
    old = _cached(cache, "old", age_s=30 * DAY)
    assert cache.manage(imagecache.files_in_use(str(instances)), max_age_s=0) == []
    assert os.path.exists(old)


def test_unreadable_disk_does_not_stop_the_pass(host) -> None:  # type: ignore[no-untyped-def]
    instances, cache = host
    used = _cached(cache, "used", age_s=3 * DAY)
    old = _cached(cache, "old", age_s=3 * DAY)
    _instance(instances, "44444444-4444-4444-4444-444444444444", used)
    broken = instances / "55555555-5555-5555-5555-555555555555"
    broken.mkdir()
    (broken / "disk").write_bytes(b"QFI\xfb" + b"\x00" * 100)  # a truncated qcow2 header qemu-img rejects
    assert cache.manage(imagecache.files_in_use(str(instances)), max_age_s=DAY) == [old]
    assert os.path.exists(used)


def test_removed_base_is_downloaded_again(host) -> None:  # type: ignore[no-untyped-def]
    instances, cache = host
    data = b"image bytes" * 100
    digest = hashlib.sha512(data).hexdigest()
    path = cache.fetch("image", "sha512", digest, lambda f: f.write(data))
    _age(path, 2 * DAY)
    assert cache.manage(set(), max_age_s=DAY) == [path]
    downloads = []
    assert cache.fetch("image", "sha512", digest, lambda f: downloads.append(f.write(data))) == path
    assert downloads and Path(path).read_bytes() == data


def test_driver_pass_keeps_what_libvirt_guests_name(tmp_path: Path) -> None:
    """The libvirt driver's pass over libvirt's own test hypervisor (``test:///default``, a real libvirt
    connection with no guests running): a guest's kernel, ramdisk and a disk outside the instance
    directories keep their bases; a base no guest names goes once old enough."""
    from nubis.common import config
    from nubis.compute import conf as compute_conf
    from nubis.compute.virt.libvirt.connection import Connection
    from nubis.compute.virt.libvirt.driver import LibvirtDriver
    from nubis.compute.virt.libvirt.guest_config import DOMAIN_PREFIX

    conf = config.new_conf()
    for group, opts in compute_conf.list_opts():
        conf.register_opts(opts, group=group)
    conf([], default_config_files=[])
    conf.set_override("instances_path", str(tmp_path / "instances"), group="libvirt")
    conf.set_override("remove_unused_base_images_after", DAY, group="libvirt")
    connection = Connection("test:///default")
    driver = LibvirtDriver(conf, None, connection=connection)
    kernel = _cached(driver.cache, "kernel", age_s=3 * DAY)
    ramdisk = _cached(driver.cache, "ramdisk", age_s=3 * DAY)
    volume_base = _cached(driver.cache, "volume-base", age_s=3 * DAY)
    unused = _cached(driver.cache, "unused", age_s=3 * DAY)
    elsewhere = tmp_path / "elsewhere.qcow2"
    disks.create_overlay(volume_base, str(elsewhere), None)
    uuid = "66666666-6666-6666-6666-666666666666"
    dom = connection.get().defineXML(
        f"<domain type='test'><name>{DOMAIN_PREFIX}{uuid}</name><uuid>{uuid}</uuid><memory>65536</memory>"
        f"<os><type>hvm</type><kernel>{kernel}</kernel><initrd>{ramdisk}</initrd></os><devices>"
        f"<disk type='file' device='disk'><source file='{elsewhere}'/><target dev='vda'/></disk>"
        f"</devices></domain>")
    try:
        assert driver.list_guests() == [uuid]
        assert driver.manage_image_cache() == [unused]
        assert all(os.path.exists(p) for p in (kernel, ramdisk, volume_base))
    finally:
        dom.undefine()
    for path in (kernel, ramdisk, volume_base):
        _age(path, 2 * DAY)
    assert sorted(driver.manage_image_cache()) == sorted([kernel, ramdisk, volume_base])
