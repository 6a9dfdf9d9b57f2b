"""Hypervisors, per microversion (Nova's hypervisors view)."""

from __future__ import annotations

import json
from typing import Any

from nubis.api.microversion import Version

# Since 2.88 a hypervisor shows its uptime and no longer the usage figures (placement has those).
_USAGE_FIELDS = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
                 "free_disk_gb", "current_workload", "running_vms", "disk_available_least", "cpu_info")
_UPTIME_FIELDS = ("id", "hypervisor_hostname", "state", "status", "uptime")
_UUID_IDS = Version(2, 53)  # before it, hypervisors and services are named by integer ids


def _id(record: dict[str, Any], version: Version) -> Any:
    return record["id"] if version >= _UUID_IDS else record["legacy_id"]


def hypervisor(record: dict[str, Any], version: Version) -> dict[str, Any]:
    """A hypervisor of a listing, detail or show: ``cpu_info`` a JSON-encoded string before 2.28, an object after."""
    drop = _USAGE_FIELDS if version >= Version(2, 88) else ("uptime",)
    body = {k: v for k, v in record.items() if k not in drop and k != "legacy_id"}
    body["id"] = _id(record, version)
    if "service" in body:
        body["service"] = {k: v for k, v in record["service"].items() if k != "legacy_id"}
        body["service"]["id"] = _id(record["service"], version)
    if "cpu_info" in body and version < Version(2, 28):
        body["cpu_info"] = json.dumps(body["cpu_info"])
    return body


def uptime(record: dict[str, Any], version: Version) -> dict[str, Any]:
    """The body of the pre-2.88 ``/os-hypervisors/{id}/uptime``."""
    return {**{k: record[k] for k in _UPTIME_FIELDS}, "id": _id(record, version)}
