"""Metering service options."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "metering"

OPTS = [
    cfg.StrOpt("notification_pool", default="nubis-metering",
               help="Listener pool on the versioned-notifications topic: every collector of one cloud shares it, "
                    "so each notification is handled once; a pool of its own gives another consumer a copy."),
    cfg.IntOpt("audit_interval", default=900, min=0,
               help="Seconds between audits that compare the ledger with the services' current state (servers, "
                    "images, floating IPs) through their APIs and correct what a missed notification left wrong "
                    "(0: never; 'nubis-manage usage audit' still runs one)."),
    cfg.IntOpt("rollup_interval", default=300, min=1,
               help="Seconds between looks at the clock that close every finished hour into usage records."),
    cfg.ListOpt("tariffs", default=[],
                help="Prices per unit-hour, as METER[/FLAVOR][@PROJECT_ID]=PRICE items, e.g. "
                     "'instance/m1.small=0.02,vcpu=0.01,ram_gb=0.005@9f0c...=0.004'. Meters: instance, "
                     "instance.running (per flavor), vcpu, ram_gb, disk_gb, image (GiB-hours), floating_ip, "
                     "router_gateway, volume and snapshot (GiB-hours). "
                     "Tariffs made through the API take precedence over these."),
    cfg.StrOpt("currency", default="EUR", help="The ISO 4217 code prices and costs are in."),
    cfg.IntOpt("max_period_days", default=366, min=1, help="Longest period one usage request may cover."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]
