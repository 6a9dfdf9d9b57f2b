"""A guest's diagnostics as a driver reports them: Nova's standard form (compute API 2.48) and its older,
libvirt-shaped form (before 2.48).

API reference: compute "Servers diagnostics" (``GET /servers/{server_id}/diagnostics``). Units: times in
nanoseconds of CPU, memory in MiB (standard form) or KiB (legacy form, as libvirt reports it), byte and packet
counters since the guest started, uptime in seconds.
"""

from __future__ import annotations

import dataclasses
from typing import Any

# The guest states the standard form names (Nova's ``power_state`` names, lower case).
STATES = ("pending", "running", "paused", "shutdown", "crashed", "suspended")


@dataclasses.dataclass(frozen=True)
class CpuDiagnostics:
    id: int
    time: int | None  # ns of CPU time this vCPU used
    utilisation: int | None = None  # percent; None where the driver does not sample it


@dataclasses.dataclass(frozen=True)
class NicDiagnostics:
    mac_address: str | None
    rx_octets: int | None = None
    rx_errors: int | None = None
    rx_drop: int | None = None
    rx_packets: int | None = None
    rx_rate: int | None = None
    tx_octets: int | None = None
    tx_errors: int | None = None
    tx_drop: int | None = None
    tx_packets: int | None = None
    tx_rate: int | None = None
    device: str = ""  # the host-side tap, named in the legacy form only


@dataclasses.dataclass(frozen=True)
class DiskDiagnostics:
    read_bytes: int | None = None
    read_requests: int | None = None
    write_bytes: int | None = None
    write_requests: int | None = None
    errors_count: int | None = None
    device: str = ""  # the guest-side target (vda), named in the legacy form only


@dataclasses.dataclass(frozen=True)
class Diagnostics:
    """One guest's diagnostics. ``state`` is one of STATES; ``driver`` is the hypervisor driver's name."""

    state: str
    driver: str
    hypervisor: str | None
    hypervisor_os: str | None
    uptime: int | None
    config_drive: bool
    memory_max_mb: int | None
    memory_used_mb: int | None
    cpus: tuple[CpuDiagnostics, ...] = ()
    nics: tuple[NicDiagnostics, ...] = ()
    disks: tuple[DiskDiagnostics, ...] = ()

    def standard(self) -> dict[str, Any]:
        """The 2.48+ response body."""
        return {
            "state": self.state, "driver": self.driver, "hypervisor": self.hypervisor,
            "hypervisor_os": self.hypervisor_os, "uptime": self.uptime, "config_drive": self.config_drive,
            "num_cpus": len(self.cpus), "num_nics": len(self.nics), "num_disks": len(self.disks),
            "memory_details": {"maximum": self.memory_max_mb, "used": self.memory_used_mb},
            "cpu_details": [dataclasses.asdict(c) for c in self.cpus],
            "nic_details": [{k: v for k, v in dataclasses.asdict(n).items() if k != "device"} for n in self.nics],
            "disk_details": [{k: v for k, v in dataclasses.asdict(d).items() if k != "device"} for d in self.disks],
        }

    def legacy(self) -> dict[str, Any]:
        """The pre-2.48 body, in the libvirt driver's flat shape (``cpu0_time``, ``memory``, ``vda_read``,
        ``tapX_rx``...); counters a driver did not report are left out."""
        body: dict[str, Any] = {f"cpu{c.id}_time": c.time for c in self.cpus if c.time is not None}
        if self.memory_max_mb is not None:
            body["memory"] = self.memory_max_mb * 1024
        if self.memory_used_mb is not None:
            body["memory-actual"] = self.memory_used_mb * 1024
        for d in self.disks:
            for key, value in (("read", d.read_bytes), ("read_req", d.read_requests), ("write", d.write_bytes),
                               ("write_req", d.write_requests), ("errors", d.errors_count)):
                if value is not None:
                    body[f"{d.device}_{key}"] = value
        for n in self.nics:
            for key, value in (("rx", n.rx_octets), ("rx_packets", n.rx_packets), ("rx_errors", n.rx_errors),
                               ("rx_drop", n.rx_drop), ("tx", n.tx_octets), ("tx_packets", n.tx_packets),
                               ("tx_errors", n.tx_errors), ("tx_drop", n.tx_drop)):
                if value is not None:
                    body[f"{n.device}_{key}"] = value
        return body

    def to_dict(self) -> dict[str, Any]:
        """The RPC form (plain JSON types)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Diagnostics:
        return cls(**{**body, "cpus": tuple(CpuDiagnostics(**c) for c in body["cpus"]),
                      "nics": tuple(NicDiagnostics(**n) for n in body["nics"]),
                      "disks": tuple(DiskDiagnostics(**d) for d in body["disks"])})
