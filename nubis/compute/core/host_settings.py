"""What the compute API decides about hosts: their availability zone, aggregate metadata, enabled or not.

The compute database holds these; the scheduler filters on them, so every
change is pushed to it at once (and a host's settings are pushed again whenever
its agent registers, in case the scheduler missed one).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.compute.db.models import Aggregate, AggregateHost, Service
from nubis.scheduler.rpcapi import SchedulerAPI

LOG = logging.getLogger(__name__)
ZONE_KEY = "availability_zone"
INTERNAL_ZONE = "internal"  # where nova shows control-plane services; no instance lands there


class HostSettings:
    def __init__(self, conf: cfg.ConfigOpts, db: Database, scheduler: SchedulerAPI) -> None:
        self.conf = conf
        self.db = db
        self.scheduler = scheduler

    @property
    def default_zone(self) -> str:
        return self.conf.compute.default_availability_zone

    def zones(self, s: orm.Session) -> dict[str, str]:
        """Host -> the zone an aggregate puts it in (hosts in no zoned aggregate are absent)."""
        found: dict[str, str] = {}
        for agg in s.scalars(sa.select(Aggregate)):
            zone = (agg.metadata_items or {}).get(ZONE_KEY)
            if zone:
                for member in agg.hosts:
                    found[member.host] = zone
        return found

    def settings(self, s: orm.Session, host: str) -> dict[str, Any]:
        metadata: dict[str, str] = {}
        aggregates = s.scalars(sa.select(Aggregate).join(AggregateHost).where(AggregateHost.host == host)
                               .order_by(Aggregate.id))
        for agg in aggregates:
            metadata.update(agg.metadata_items or {})
        service = s.scalar(sa.select(Service).where(Service.host == host, Service.binary == "nubis-compute"))
        return {"availability_zone": metadata.pop(ZONE_KEY, None), "aggregate_metadata": metadata,
                "enabled": service is None or not service.disabled}

    def push(self, ctx: RequestContext, hosts: Iterable[str]) -> None:
        """Tell the scheduler the current settings of ``hosts`` (waits for it, so the next boot sees them)."""
        with self.db.reader() as s:
            wanted = {host: self.settings(s, host) for host in set(hosts)}
        for host, settings in wanted.items():
            if not self.scheduler.update_host_settings(ctx, host, settings):
                LOG.info("scheduler does not know host %s yet; it gets the settings when the host registers", host)
