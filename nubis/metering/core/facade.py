"""The metering core as the API, the manage commands and the service runner see it."""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from nubis.common.db.engine import Database
from nubis.metering.core import clock
from nubis.metering.core.audit import Auditor, AuditResult
from nubis.metering.core.billing import Billing, Period, parse_period
from nubis.metering.core.collector import Collector
from nubis.metering.core.ledger import Ledger
from nubis.metering.core.sources import Sources
from nubis.metering.core.tariffs import Price, Tariffs, check_meter, parse_price


class MeteringCore:
    """Ledger, collector, audit, tariffs and billing over one database."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, sources: Sources,
                 now: clock.Clock = clock.system_clock) -> None:
        self.conf = conf
        self.db = db
        self.now = now
        self.ledger = Ledger(db)
        self.sources = sources
        self.collector = Collector(self.ledger, sources)
        self.auditor = Auditor(self.ledger, sources, now)
        self.tariffs = Tariffs(conf, db)
        self.billing = Billing(conf, db, self.tariffs, now)

    # -- usage --------------------------------------------------------------------------------------------
    def period(self, period: str | None, start: str | None, end: str | None) -> Period:
        return parse_period(period, start, end, self.conf.metering.max_period_days)

    def usage(self, period: Period, project_id: str | None) -> list[dict[str, Any]]:
        """Usage and cost per project over ``period`` (``project_id`` None: every project with usage)."""
        return self.billing.report(period, project_id)

    # -- tariffs ------------------------------------------------------------------------------------------
    def list_tariffs(self) -> list[Price]:
        return self.tariffs.all()

    def create_tariff(self, meter: str, flavor: str | None, project_id: str | None, price: Any) -> Price:
        check_meter(meter, flavor)
        return self.tariffs.create(meter, flavor or "", project_id or "", parse_price(price))

    def delete_tariff(self, tariff_id: str) -> None:
        self.tariffs.delete(tariff_id)

    # -- background ---------------------------------------------------------------------------------------
    def audit(self) -> AuditResult:
        return self.auditor.run()

    def close_hours(self) -> int:
        return self.ledger.close_hours(self.now())

