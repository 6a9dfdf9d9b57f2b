"""Host ordering: free RAM, vCPUs and disk, normalised over the candidates, spread or pack."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from nubis.scheduler.host_state import HostState
from nubis.scheduler.request_spec import ServerGroup

# Soft server-group policies outweigh resource weights (each of those is within 0..multiplier).
SOFT_GROUP_WEIGHT = 100.0


def _normalised(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    if high == low:
        return [0.0 for _ in values]
    return [(v - low) / (high - low) for v in values]


def weigh(hosts: list[HostState], conf: cfg.ConfigOpts, group: ServerGroup | None = None) -> list[HostState]:
    """Hosts best first. ``spread`` prefers the most free resources; ``pack`` the least.

    A soft-anti-affinity group prefers hosts with fewer of its members, soft-affinity more.
    """
    if not hosts:
        return hosts
    sign = 1.0 if conf.scheduler.weigher_strategy == "spread" else -1.0
    weights = [0.0] * len(hosts)
    for resource, multiplier in (("MEMORY_MB", conf.scheduler.ram_weight_multiplier),
                                 ("VCPU", conf.scheduler.cpu_weight_multiplier),
                                 ("DISK_GB", conf.scheduler.disk_weight_multiplier)):
        free = _normalised([float(h.free(resource)) for h in hosts])
        for i, value in enumerate(free):
            weights[i] += sign * multiplier * value
    if group is not None and group.policy in ("soft-affinity", "soft-anti-affinity"):
        sign = 1.0 if group.policy == "soft-affinity" else -1.0
        for i, host in enumerate(hosts):
            weights[i] += sign * SOFT_GROUP_WEIGHT * group.hosts.count(host.host)
    for host, weight in zip(hosts, weights, strict=True):
        host.weight = weight
    # Ties keep placement's order, which is stable (by provider id).
    return sorted(hosts, key=lambda h: -h.weight)
