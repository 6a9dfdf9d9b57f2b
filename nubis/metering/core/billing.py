"""Usage and cost over a period, per project: the records of its finished hours plus the open spans.

Money is Decimal throughout. A line is one meter (and flavor, for per-flavor meters) of one project; its
cost is unit-hours x price, rounded half-up to the cent once, on the line; a total is the sum of its lines.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.metering.core import clock, ledger, meters
from nubis.metering.core.tariffs import Tariffs

CENT = Decimal("0.01")
QUANTITY_PLACES = Decimal("0.000001")
UNITS = {"instance": "hour", "instance.running": "hour", "vcpu": "vCPU-hour", "ram_gb": "GiB-hour",
         "disk_gb": "GB-hour", "image": "GiB-hour", "floating_ip": "hour",
         "router_gateway": "hour", "volume": "GiB-hour", "snapshot": "GiB-hour",
         "outbound_gb": "GB"}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclasses.dataclass(frozen=True)
class Period:
    start: datetime.datetime
    end: datetime.datetime


def parse_period(period: str | None, start: str | None, end: str | None, max_days: int) -> Period:
    """A period from ``period=YYYY-MM`` (that calendar month, UTC) or ``start``/``end`` (ISO 8601, on the hour);
    BadRequest naming what is wrong."""
    if period is not None:
        if start is not None or end is not None:
            raise exceptions.BadRequest("Give either period or start and end, not both.")
        m = _MONTH.match(period)
        # 9998 at most: the period's end (the next month's first day) must still be a date.
        if not m or not 1 <= int(m.group(2)) <= 12 or not 1970 <= int(m.group(1)) <= 9998:
            raise exceptions.BadRequest(f"period {period!r} is not a month written YYYY-MM (years 1970 to 9998).")
        year, month = int(m.group(1)), int(m.group(2))
        first = datetime.datetime(year, month, 1)
        nxt = datetime.datetime(year + (month == 12), month % 12 + 1, 1)
        return Period(first, nxt)
    if start is None or end is None:
        raise exceptions.BadRequest("Give period=YYYY-MM, or both start and end.")
    bounds = []
    for name, text in (("start", start), ("end", end)):
        try:
            value = clock.parse_timestamp(text)
        except ValueError:
            raise exceptions.BadRequest(f"{name} {text!r} is not an ISO 8601 time.") from None
        if value != clock.hour_floor(value):
            raise exceptions.BadRequest(f"{name} must be on the hour (usage is kept hour by hour).")
        bounds.append(value)
    if bounds[1] <= bounds[0]:
        raise exceptions.BadRequest("end must be after start.")
    if bounds[1] - bounds[0] > datetime.timedelta(days=max_days):
        raise exceptions.BadRequest(f"The period may cover at most {max_days} days.")
    return Period(bounds[0], bounds[1])


class Billing:
    """Reads usage for a period and prices it."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, tariffs: Tariffs, now: clock.Clock) -> None:
        self.conf = conf
        self.db = db
        self.tariffs = tariffs
        self.now = now

    def quantities(self, period: Period, project_id: str | None) -> dict[str, dict[tuple[str, str], int]]:
        """unit-seconds per project, per (meter, flavor), over ``period``: recorded hours plus open spans."""
        out: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
        for project, meter, flavor, quantity in ledger.sums(self.db, period.start, period.end, project_id):
            out[project][(meter, flavor)] += quantity
        until = min(clock.second(self.now()), period.end)
        for row in ledger.Ledger(self.db).open_resources(project_id=project_id):
            begin = max(row.since, period.start)
            if until <= begin:
                continue
            seconds = int((until - begin).total_seconds())
            for meter, flavor, per_second in meters.rates(ledger.state_of(row)):
                if per_second > 0:
                    out[row.project_id][(meter, flavor)] += seconds * per_second
        return out

    def report(self, period: Period, project_id: str | None) -> list[dict[str, Any]]:
        """Each project's usage lines and cost over ``period`` (a project with no usage: no lines, total 0)."""
        found = self.quantities(period, project_id)
        if project_id is not None:
            found.setdefault(project_id, {})
        table = self.tariffs.table()
        currency = self.conf.metering.currency
        reports = []
        for project in sorted(found):
            lines, total = [], Decimal(0)
            for (meter, flavor), quantity in sorted(found[project].items()):
                hours = meters.unit_hours(meter, quantity)
                price = Tariffs.price(table, meter, flavor, project)
                cost = (hours * price).quantize(CENT, rounding=ROUND_HALF_UP)
                total += cost
                lines.append({"meter": meter, "flavor": flavor or None, "unit": UNITS[meter],
                              "quantity": str(hours.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP)),
                              "price": str(price), "cost": str(cost)})
            reports.append({"project_id": project, "start": period.start.isoformat(),
                            "end": period.end.isoformat(), "currency": currency, "lines": lines,
                            "total": str(total.quantize(CENT))})
        return reports
