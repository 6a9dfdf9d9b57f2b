"""Scheduler options."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "scheduler"

OPTS = [
    cfg.IntOpt("max_placement_results", default=1000, min=1,
               help="Most allocation candidates asked of placement per request."),
    cfg.IntOpt("max_alternates", default=2, min=0,
               help="Alternate hosts returned with each selection, for the conductor to retry on."),
    cfg.StrOpt("weigher_strategy", default="spread", choices=["spread", "pack"],
               help="spread: prefer the emptiest hosts. pack: fill hosts before using new ones."),
    cfg.FloatOpt("ram_weight_multiplier", default=1.0, help="Weight of free RAM in host ordering."),
    cfg.FloatOpt("cpu_weight_multiplier", default=1.0, help="Weight of free vCPUs in host ordering."),
    cfg.FloatOpt("disk_weight_multiplier", default=1.0, help="Weight of free disk in host ordering."),
    cfg.ListOpt("enabled_filters",
                default=["AvailabilityZoneFilter", "ComputeFilter", "ComputeCapabilitiesFilter",
                         "ImagePropertiesFilter", "AggregateImagePropertiesIsolation",
                         "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter", "NUMATopologyFilter"],
                help="Host filters, in the order they run."),
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="Seconds after a compute host's last report before it counts as down."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]
