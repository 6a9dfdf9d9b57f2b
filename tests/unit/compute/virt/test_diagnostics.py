"""Diagnostics in Nova's standard (2.48) and legacy (libvirt-shaped) forms, and across RPC."""

from __future__ import annotations

from nubis.compute.virt.diagnostics import CpuDiagnostics, Diagnostics, DiskDiagnostics, NicDiagnostics

SAMPLE = Diagnostics(
    state="running", driver="libvirt", hypervisor="qemu", hypervisor_os="linux", uptime=42, config_drive=False,
    memory_max_mb=512, memory_used_mb=256, cpus=(CpuDiagnostics(0, 1_000), CpuDiagnostics(1, 2_000)),
    disks=(DiskDiagnostics(read_bytes=10, read_requests=1, write_bytes=20, write_requests=2, errors_count=0,
                           device="vda"),),
    nics=(NicDiagnostics("fa:16:3e:00:00:01", rx_octets=5, rx_packets=1, tx_octets=7, device="tap1"),))


def test_standard_form_counts_and_hides_device_names() -> None:
    body = SAMPLE.standard()
    assert (body["num_cpus"], body["num_disks"], body["num_nics"]) == (2, 1, 1)
    assert body["memory_details"] == {"maximum": 512, "used": 256}
    assert body["cpu_details"][1] == {"id": 1, "time": 2_000, "utilisation": None}
    assert "device" not in body["disk_details"][0] and "device" not in body["nic_details"][0]
    assert body["nic_details"][0]["rx_rate"] is None


def test_legacy_form_is_libvirts_flat_counters_in_kib() -> None:
    body = SAMPLE.legacy()
    assert body["cpu0_time"] == 1_000 and body["memory"] == 512 * 1024 and body["memory-actual"] == 256 * 1024
    assert body["vda_read"] == 10 and body["vda_write_req"] == 2 and body["tap1_tx"] == 7
    assert "tap1_rx_drop" not in body  # not reported, so left out


def test_round_trip_through_the_rpc_form() -> None:
    assert Diagnostics.from_dict(SAMPLE.to_dict()) == SAMPLE
