"""Hypervisors, per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version

# Since 2.88 a hypervisor shows its uptime and no longer the usage figures (placement has those).
_USAGE_FIELDS = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
                 "free_disk_gb", "current_workload", "running_vms", "disk_available_least")
_UPTIME_FIELDS = ("id", "hypervisor_hostname", "state", "status", "uptime")


def hypervisor(record: dict[str, Any], version: Version) -> dict[str, Any]:
    drop = _USAGE_FIELDS if version >= Version(2, 88) else ("uptime",)
    return {k: v for k, v in record.items() if k not in drop}


def uptime(record: dict[str, Any]) -> dict[str, Any]:
    """The body of the pre-2.88 ``/os-hypervisors/{id}/uptime``."""
    return {k: record[k] for k in _UPTIME_FIELDS}
