"""Options of ``nubis-exporter`` and of the quota-vs-capacity report."""

from __future__ import annotations

from oslo_config import cfg

EXPORTER_OPTS = [
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address nubis-exporter listens on."),
    cfg.PortOpt("bind_port", default=9180, help="Port of nubis-exporter (the OpenStack community exporter's)."),
    cfg.ListOpt("allowed_cidrs", default=["127.0.0.0/8", "::1/128"],
                help="Client addresses (CIDRs) that may scrape GET /metrics; others get a 403. Cloud state "
                "(projects, hosts, usage) is for the operator's Prometheus only."),
    cfg.IntOpt("cache_seconds", default=15, min=0,
               help="How long one read of the cloud serves scrapes: several Prometheus servers (or a retry) "
               "within this time cost the APIs one read."),
    cfg.IntOpt("api_timeout", default=30, min=1, help="Seconds to wait for each API call of a scrape."),
    cfg.BoolOpt("project_metrics", default=True,
                help="Read each project's quota usage (one compute call per project, the community exporter's "
                "'slow metrics'); turn off for clouds with many thousands of projects."),
]

CAPACITY_OPTS = [
    cfg.FloatOpt("quota_capacity_ratio", default=1.0, min=0,
                 help="nubis-manage quota capacity-report warns when the sum of the projects' quotas of a "
                 "resource exceeds this many times the cloud's capacity of it (what placement admits: "
                 "(total - reserved) x allocation_ratio, over every resource provider)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(EXPORTER_OPTS, group="exporter")
    conf.register_opts(CAPACITY_OPTS, group="capacity")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("exporter", list(EXPORTER_OPTS)), ("capacity", list(CAPACITY_OPTS))]
