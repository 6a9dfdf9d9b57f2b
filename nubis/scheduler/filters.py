"""Host filters. Each says why it rejects a host, in words the explain output repeats verbatim.

A filter is a function ``(host, spec, ctx) -> reason | None``; ``None`` keeps the host.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

from nubis.common.db import types
from nubis.scheduler import numa
from nubis.scheduler.host_state import HostState
from nubis.scheduler.request_spec import RequestSpec


@dataclasses.dataclass(frozen=True)
class FilterContext:
    service_down_time: int
    now: datetime.datetime = dataclasses.field(default_factory=types.utcnow)


Filter = Callable[[HostState, RequestSpec, FilterContext], "str | None"]


def availability_zone(host: HostState, spec: RequestSpec, ctx: FilterContext) -> str | None:
    if spec.availability_zone and host.availability_zone != spec.availability_zone:
        return f"availability zone mismatch (host in {host.availability_zone}, asked {spec.availability_zone})"
    return None


def compute(host: HostState, spec: RequestSpec, ctx: FilterContext) -> str | None:
    if not host.enabled:
        return "compute service disabled"
    age = (ctx.now - host.updated_at).total_seconds()
    if age > ctx.service_down_time:
        return f"compute service down (no report for {int(age)} s)"
    return None


def _matches(wanted: str, have: object) -> bool:
    """Nova's extra-spec operators, the common ones: ``>= 4``, ``<in> x``, ``s== x``, or plain equality."""
    wanted = wanted.strip()
    for op in (">=", "<="):
        if wanted.startswith(op):
            try:
                value, limit = float(str(have)), float(wanted[len(op):])
            except ValueError:
                return False
            return value >= limit if op == ">=" else value <= limit
    if wanted.startswith("<in>"):
        return wanted[4:].strip() in str(have)
    if wanted.startswith("s=="):
        wanted = wanted[3:].strip()
    return str(have) == wanted


def compute_capabilities(host: HostState, spec: RequestSpec, ctx: FilterContext) -> str | None:
    for key, wanted in spec.flavor.extra_specs.items():
        if not key.startswith("capabilities:"):
            continue
        name = key.split(":", 1)[1]
        have = host.capabilities.get(name)
        if have is None or not _matches(wanted, have):
            return f"lacks capability {name}={wanted}"
    return None


IMAGE_TO_CAPABILITY = {"hw_architecture": "cpu_arch", "img_hv_type": "hypervisor_type", "hw_vm_mode": "vm_mode"}


def image_properties(host: HostState, spec: RequestSpec, ctx: FilterContext) -> str | None:
    for prop, capability in IMAGE_TO_CAPABILITY.items():
        wanted = spec.image_properties.get(prop)
        have = host.capabilities.get(capability)
        if wanted and have and str(wanted) != str(have):
            return f"image needs {prop}={wanted}, host has {have}"
    return None


def aggregate_image_isolation(host: HostState, spec: RequestSpec, ctx: FilterContext) -> str | None:
    for key, value in host.aggregate_metadata.items():
        if key in spec.image_properties:
            allowed = {v.strip() for v in str(value).split(",")}
            if str(spec.image_properties[key]) not in allowed:
                return f"aggregate metadata {key}={value} excludes the image's {key}={spec.image_properties[key]}"
    return None


def anti_affinity(host: HostState, spec: RequestSpec, ctx: FilterContext) -> str | None:
    group = spec.server_group
    if group and group.policy == "anti-affinity" and group.hosts.count(host.host) >= group.max_per_host:
        if group.max_per_host == 1:
            return "already runs a member of the anti-affinity server group"
        return f"already runs {group.max_per_host} members of the anti-affinity server group (max_server_per_host)"
    return None


def affinity(host: HostState, spec: RequestSpec, ctx: FilterContext) -> str | None:
    group = spec.server_group
    if group and group.policy == "affinity" and group.hosts and host.host not in group.hosts:
        return "the affinity server group's members run on another host"
    return None


def numa_topology(host: HostState, spec: RequestSpec, ctx: FilterContext) -> str | None:
    try:
        request = numa.NumaRequest.from_flavor(spec.flavor.vcpus, spec.flavor.memory_mb, spec.flavor.extra_specs)
    except numa.InvalidNumaRequest as exc:
        return f"invalid NUMA request: {exc}"
    if request is None:
        return None
    if not host.cells:
        return "host reports no NUMA topology"
    try:
        host.numa_fit = numa.fit(host.cells, host.usage, request)
    except numa.NoFit as miss:
        return miss.reason
    return None


FILTERS: dict[str, Filter] = {
    "AvailabilityZoneFilter": availability_zone,
    "ComputeFilter": compute,
    "ComputeCapabilitiesFilter": compute_capabilities,
    "ImagePropertiesFilter": image_properties,
    "AggregateImagePropertiesIsolation": aggregate_image_isolation,
    "ServerGroupAntiAffinityFilter": anti_affinity,
    "ServerGroupAffinityFilter": affinity,
    "NUMATopologyFilter": numa_topology,
}
