"""Domain XML from flavor extra specs, image properties and the scheduler's NUMA fit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from nubis.compute.virt.driver import DriverError, GuestSpec
from nubis.compute.virt.libvirt import domain, guest_config, host
from tests.unit.compute.virt.libvirt.test_host import TWO_CELLS

TOPOLOGY = host.parse_capabilities(TWO_CELLS)


def _facts(dedicated: str | None = "1-3,5-7", shared: str | None = "0,4", cache: str = "none") -> Any:
    return guest_config.HostFacts(virt_type="qemu", machine_type="pc", kernel_cmdline="console=ttyS0",
                                  disk_cachemode=cache, topology=TOPOLOGY,
                                  resources=host.guest_resources(TOPOLOGY, dedicated, shared, 512))


FILES = guest_config.GuestFiles(root="/i/disk", console_log="/i/console.log")


def _guest(**kwargs: Any) -> GuestSpec:
    base: dict[str, Any] = {"uuid": "9a0d5a5e-0000-4000-8000-000000000001", "name": "web", "vcpus": 2,
                            "memory_mb": 1024, "root_gb": 1, "image_ref": "img"}
    return GuestSpec(**{**base, **kwargs})


def _xml(guest: GuestSpec, facts: Any = None, files: guest_config.GuestFiles = FILES) -> ET.Element:
    return ET.fromstring(domain.to_xml(guest_config.build(guest, facts or _facts(), files)))


def test_plain_guest_floats_on_the_shared_cpus_with_a_balloon() -> None:
    root = _xml(_guest())
    assert root.get("type") == "qemu" and root.findtext("name") == "nubis-instance-" + _guest().uuid
    assert root.findtext("memory") == str(1024 * 1024) and root.findtext("vcpu") == "2"
    assert [(p.get("vcpu"), p.get("cpuset")) for p in root.iterfind("cputune/vcpupin")] == [("0", "0,4"),
                                                                                             ("1", "0,4")]
    assert root.find("cputune/emulatorpin") is None and root.find("numatune") is None
    assert root.find("devices/memballoon").get("model") == "virtio"
    disk = root.find("devices/disk")
    assert disk.find("driver").attrib == {"name": "qemu", "type": "qcow2", "cache": "none", "io": "native"}
    assert disk.find("target").attrib == {"dev": "vda", "bus": "virtio"}
    assert root.find("devices/serial/source").get("path") == "/i/console.log"
    assert root.find("os/boot").get("dev") == "hd"


def test_without_cpu_sets_nothing_is_pinned() -> None:
    root = _xml(_guest(), _facts(dedicated=None, shared=None))
    assert root.find("cputune") is None


PINNED_FIT = {"cells": [
    {"host_cell": 0, "vcpus": [0, 1], "pinning": {"0": 1, "1": 5}, "reserved": [1, 5], "memory_mb": 512,
     "page_size_kb": 2048},
    {"host_cell": 1, "vcpus": [2, 3], "pinning": {"2": 2, "3": 6}, "reserved": [2, 6], "memory_mb": 512,
     "page_size_kb": 2048}]}


def test_pinned_hugepage_guest_over_two_numa_cells() -> None:
    guest = _guest(vcpus=4, numa_fit=PINNED_FIT,
                   extra_specs={"hw:cpu_policy": "dedicated", "hw:mem_page_size": "2MB", "hw:numa_nodes": "2"})
    root = _xml(guest)
    pins = {p.get("vcpu"): p.get("cpuset") for p in root.iterfind("cputune/vcpupin")}
    assert pins == {"0": "1", "1": "5", "2": "2", "3": "6"}  # one host CPU per vCPU, from the scheduler's fit
    assert root.find("cputune/emulatorpin").get("cpuset") == "0,4"  # emulator threads stay on the shared set
    assert root.find("numatune/memory").attrib == {"mode": "strict", "nodeset": "0-1"}
    assert [m.attrib for m in root.iterfind("numatune/memnode")] == [
        {"cellid": "0", "mode": "strict", "nodeset": "0"}, {"cellid": "1", "mode": "strict", "nodeset": "1"}]
    assert [c.attrib for c in root.iterfind("cpu/numa/cell")] == [
        {"id": "0", "cpus": "0-1", "memory": str(512 * 1024), "unit": "KiB", "memAccess": "shared"},
        {"id": "1", "cpus": "2-3", "memory": str(512 * 1024), "unit": "KiB", "memAccess": "shared"}]
    assert root.find("memoryBacking/hugepages/page").attrib == {"size": "2048", "unit": "KiB", "nodeset": "0-1"}
    assert root.find("devices/memballoon").get("model") == "none"


def test_pinned_guest_without_a_fit_is_refused() -> None:
    with pytest.raises(DriverError, match="scheduler's CPU assignment"):
        _xml(_guest(extra_specs={"hw:cpu_policy": "dedicated"}))


@pytest.mark.parametrize(("specs", "expected"), [
    ({"hw:cpu_sockets": "2"}, ("2", "1", "1")),
    ({"hw:cpu_sockets": "1", "hw:cpu_cores": "2"}, ("1", "2", "1")),
    ({"hw:cpu_threads": "2"}, ("1", "1", "2")),
])
def test_cpu_topology(specs: dict[str, str], expected: tuple[str, str, str]) -> None:
    topo = _xml(_guest(extra_specs=specs)).find("cpu/topology")
    assert (topo.get("sockets"), topo.get("cores"), topo.get("threads")) == expected


def test_cpu_topology_that_does_not_add_up_is_refused() -> None:
    with pytest.raises(DriverError, match="does not make the flavor's 2 vCPUs"):
        _xml(_guest(extra_specs={"hw:cpu_sockets": "3"}))


def test_quotas_become_cputune_and_iotune() -> None:
    specs = {"quota:cpu_shares": "2048", "quota:cpu_period": "100000", "quota:cpu_quota": "50000",
             "quota:disk_read_bytes_sec": "10485760", "quota:disk_write_iops_sec": "200"}
    root = _xml(_guest(extra_specs=specs))
    assert (root.findtext("cputune/shares"), root.findtext("cputune/period"), root.findtext("cputune/quota")) == (
        "2048", "100000", "50000")
    tune = root.find("devices/disk/iotune")
    assert (tune.findtext("read_bytes_sec"), tune.findtext("write_iops_sec")) == ("10485760", "200")
    with pytest.raises(DriverError, match="quota:cpu_shares"):
        _xml(_guest(extra_specs={"quota:cpu_shares": "lots"}))


def test_image_properties_choose_bus_and_machine_and_direct_kernel_boot() -> None:
    guest = _guest(image_meta={"properties": {"hw_disk_bus": "scsi", "hw_machine_type": "q35",
                                              "os_command_line": "console=ttyS0 quiet"}})
    files = guest_config.GuestFiles(root="/i/disk", config_drive="/i/disk.config", kernel="/c/k", ramdisk="/c/r")
    root = _xml(guest, _facts(cache="writeback"), files)
    assert root.find("os/type").get("machine") == "q35"
    assert (root.findtext("os/kernel"), root.findtext("os/initrd"), root.findtext("os/cmdline")) == (
        "/c/k", "/c/r", "console=ttyS0 quiet")
    disks = root.findall("devices/disk")
    assert [d.find("target").get("dev") for d in disks] == ["sda", "sdb"]
    assert disks[1].find("readonly") is not None and disks[1].find("driver").get("type") == "raw"
    assert "io" not in disks[0].find("driver").attrib  # io=native only goes with cache=none
    with pytest.raises(DriverError, match="hw_disk_bus"):
        _xml(_guest(image_meta={"properties": {"hw_disk_bus": "floppy"}}))


def test_config_drive_files_follow_the_metadata_layout() -> None:
    import base64
    import json

    guest = _guest(key_name="k", key_data="ssh-ed25519 AAAA me", metadata={"role": "web"}, project_id="p1",
                   user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode())
    files = guest_config.metadata_files(guest)
    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert meta["uuid"] == guest.uuid and meta["hostname"] == "web" and meta["meta"] == {"role": "web"}
    assert meta["public_keys"] == {"k": "ssh-ed25519 AAAA me"} and meta["project_id"] == "p1"
    assert files["openstack/latest/user_data"] == b"#!/bin/sh\necho hi\n"


def test_ports_become_ethernet_nics_and_config_drive_network_data() -> None:
    import json

    vif = {"id": "0123456789abcdef", "mac": "fa:16:3e:00:00:01", "tap": "tap0123456789a", "mtu": 1450,
           "network_id": "net-1", "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}],
           "subnets": {"s1": {"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "enable_dhcp": True,
                              "dns_nameservers": ["192.0.2.53"], "host_routes": []}}}
    guest = _guest(vifs=(vif,))
    nic = _xml(guest).find("devices/interface")
    assert nic is not None and nic.get("type") == "ethernet"
    assert nic.find("mac").get("address") == "fa:16:3e:00:00:01"  # type: ignore[union-attr]
    assert nic.find("target").get("dev") == "tap0123456789a"  # type: ignore[union-attr]
    assert nic.find("mtu").get("size") == "1450" and nic.find("model").get("type") == "virtio"  # type: ignore[union-attr]
    network = json.loads(guest_config.metadata_files(guest)["openstack/latest/network_data.json"])
    assert network["networks"][0]["ip_address"] == "10.0.0.5" and network["networks"][0]["type"] == "ipv4_dhcp"
    assert network["links"][0]["ethernet_mac_address"] == "fa:16:3e:00:00:01"


def test_guest_agent_channel_only_for_images_that_declare_one() -> None:
    plain = _xml(_guest())
    assert plain.find("devices/channel") is None
    agent = _xml(_guest(image_meta={"properties": {"hw_qemu_guest_agent": "yes"}}))
    channel = agent.find("devices/channel")
    assert channel is not None and channel.get("type") == "unix"
    assert channel.find("target").attrib == {"type": "virtio", "name": "org.qemu.guest_agent.0"}


def test_flavor_vif_quotas_become_libvirt_bandwidth_unless_the_port_has_a_qos_policy() -> None:
    specs = {"quota:vif_inbound_average": "1000", "quota:vif_inbound_burst": "512",
             "quota:vif_outbound_average": "2000", "quota:vif_outbound_peak": "4000"}
    vifs = ({"mac": "fa:16:3e:00:00:01", "tap": "tap-plain"},
            {"mac": "fa:16:3e:00:00:02", "tap": "tap-qos", "qos_policy_id": "policy-1"})
    nics = _xml(_guest(extra_specs=specs, vifs=vifs)).findall("devices/interface")
    plain, limited = nics
    assert plain.find("bandwidth/inbound").attrib == {"average": "1000", "burst": "512"}
    assert plain.find("bandwidth/outbound").attrib == {"average": "2000", "peak": "4000"}
    assert limited.find("bandwidth") is None  # the network service's QoS rule wins on that port
    assert _xml(_guest(vifs=vifs[:1])).find("devices/interface/bandwidth") is None  # no quota, no element


NBD_ROOT = {"driver_volume_type": "nbd", "data": {"host": "192.0.2.5", "port": 10809, "name": "volume-v1",
                                                  "export_name": "volume-v1", "access_mode": "rw"}}


def test_a_volume_backed_guest_boots_the_volume_export_as_vda() -> None:
    files = guest_config.GuestFiles(root="", console_log="/i/console.log", swap="/i/disk.swap",
                                    config_drive="/i/disk.config", root_volume=NBD_ROOT)
    root = _xml(_guest(image_ref="", swap_mb=512, root_volume=NBD_ROOT), files=files)
    disks = root.findall("devices/disk")
    first = disks[0]
    assert first.get("type") == "network" and first.get("device") == "disk"
    assert first.find("driver").attrib == {"name": "qemu", "type": "raw", "cache": "none"}
    assert first.find("source").attrib == {"protocol": "nbd", "name": "volume-v1"}
    assert first.find("source/host").attrib == {"name": "192.0.2.5", "port": "10809"}
    assert first.find("target").attrib == {"dev": "vda", "bus": "virtio"}
    assert root.find("os/boot").get("dev") == "hd"  # the first disk: the volume
    # The local disks follow it; no file stands in for the root.
    assert [(d.find("target").get("dev"), d.find("source").get("file")) for d in disks[1:]] == [
        ("vdb", "/i/disk.swap"), ("vdc", "/i/disk.config")]


def test_a_root_volumes_front_end_qos_specs_win_over_the_flavors_disk_quotas() -> None:
    qos_root = {**NBD_ROOT, "data": {**NBD_ROOT["data"], "qos_specs": {"read_iops_sec": "300",
                                                                       "total_iops_sec_max": "900"}}}
    files = guest_config.GuestFiles(root="", console_log="/i/console.log", root_volume=qos_root)
    guest = _guest(image_ref="", root_volume=qos_root,
                   extra_specs={"quota:disk_read_iops_sec": "100", "quota:disk_write_iops_sec": "50"})
    tune = _xml(guest, files=files).find("devices/disk/iotune")
    assert [(e.tag, e.text) for e in tune] == [("read_iops_sec", "300"), ("write_iops_sec", "50"),
                                               ("total_iops_sec_max", "900")]


def test_the_guests_own_disks_leave_the_names_of_volumes_attached_at_spawn() -> None:
    """Volumes at boot are attached right after the spawn at the devices their mappings record: the local disks
    (ephemeral, swap, config drive) take the letters those volumes leave."""
    files = guest_config.GuestFiles(root="/i/disk", ephemeral="/i/disk.eph0", swap="/i/disk.swap",
                                    config_drive="/i/disk.config", console_log="/i/console.log")
    root = _xml(_guest(ephemeral_gb=1, swap_mb=512, volume_devices=("/dev/vdb", "/dev/vdd")), files=files)
    assert [(d.find("target").get("dev"), d.find("source").get("file")) for d in root.findall("devices/disk")] == [
        ("vda", "/i/disk"), ("vdc", "/i/disk.eph0"), ("vde", "/i/disk.swap"), ("vdf", "/i/disk.config")]
    # Without such volumes nothing changes; a volume root keeps vda for itself.
    assert guest_config.local_disk_names("vd", 3, False, ()) == ["vda", "vdb", "vdc"]
    assert guest_config.local_disk_names("vd", 2, True, ("/dev/vdb",)) == ["vdc", "vdd"]
    with pytest.raises(DriverError, match="no free"):
        guest_config.local_disk_names("vd", 2, True, tuple(f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxy"))


def test_a_root_volume_of_another_transport_is_refused() -> None:
    files = guest_config.GuestFiles(root="", root_volume={"driver_volume_type": "iscsi", "data": {}})
    with pytest.raises(DriverError, match="root volume cannot be used"):
        _xml(_guest(image_ref=""), files=files)
