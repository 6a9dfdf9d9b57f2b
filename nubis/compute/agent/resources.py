"""Telling placement and the scheduler what this host offers."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from oslo_config import cfg

from nubis.compute.virt.driver import HostResources

# Provider uuids derive from the host name: a restarted agent finds its own provider again.
_NAMESPACE = uuid.UUID("5d6f0a1e-3b7c-4c47-9a55-6f1d8e0b7a21")


def provider_uuid(host: str) -> str:
    """The uuid of ``host``'s resource provider (the same on every start)."""
    return str(uuid.uuid5(_NAMESPACE, host))


def inventories(conf: cfg.ConfigOpts, res: HostResources) -> dict[str, dict[str, Any]]:
    c = conf.compute
    shared = sum(len(cell.shared_cpus) for cell in res.cells) if res.cells else res.vcpus
    inv: dict[str, dict[str, Any]] = {
        "VCPU": {"total": shared, "allocation_ratio": c.cpu_allocation_ratio},
        "MEMORY_MB": {"total": res.memory_mb, "reserved": min(c.reserved_host_memory_mb, res.memory_mb - 1),
                      "allocation_ratio": c.ram_allocation_ratio},
        "DISK_GB": {"total": res.disk_gb, "allocation_ratio": c.disk_allocation_ratio},
    }
    if res.pcpus:
        inv["PCPU"] = {"total": res.pcpus}
    return inv


def scheduler_report(conf: cfg.ConfigOpts, host: str, rp_uuid: str, res: HostResources) -> dict[str, Any]:
    return {"host": host, "node": res.hypervisor_hostname, "provider_uuid": rp_uuid,
            "availability_zone": conf.compute.default_availability_zone,
            "capabilities": {"hypervisor_type": res.hypervisor_type, "cpu_info": dict(res.cpu_info)},
            "numa_topology": [cell.to_dict() for cell in res.cells]}


def host_started_at(proc_stat: str = "/proc/stat") -> str | None:
    """When this machine booted (UTC, ISO 8601), for the hypervisor's uptime; None where the kernel won't say."""
    try:
        with open(proc_stat, encoding="ascii") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None
    return datetime.datetime.fromtimestamp(btime, datetime.UTC).replace(tzinfo=None).isoformat()


def node_record(host: str, rp_uuid: str, res: HostResources) -> dict[str, Any]:
    return {"host": host, "uuid": rp_uuid, "hypervisor_hostname": res.hypervisor_hostname,
            "hypervisor_type": res.hypervisor_type, "vcpus": res.vcpus, "memory_mb": res.memory_mb,
            "local_gb": res.disk_gb, "cpu_info": dict(res.cpu_info), "host_started_at": host_started_at()}
