"""Tariffs: a price per unit-hour of a meter, optionally for one flavor and/or one project.

The most specific tariff wins: (meter, flavor, project), then (meter, project), then (meter, flavor), then
the meter's. A tariff set through the API replaces a configured one with the same key. No tariff: price 0.
"""

from __future__ import annotations

import dataclasses
import decimal
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.metering.core import meters
from nubis.metering.db.models import Tariff

MAX_PRICE = Decimal("1000000")
PRICE_PLACES = 8

Key = tuple[str, str, str]  # meter, flavor ("" any), project ("" any)


@dataclasses.dataclass(frozen=True)
class Price:
    meter: str
    flavor: str
    project_id: str
    price: Decimal
    id: str | None = None  # set for tariffs made through the API

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "meter": self.meter, "flavor": self.flavor or None,
                "project_id": self.project_id or None, "price": str(self.price),
                "source": "api" if self.id else "config"}


def parse_price(text: Any, field: str = "price") -> Decimal:
    """A price as an exact Decimal: a decimal string or integer, 0 <= price < 1,000,000, at most 8 places."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise exceptions.BadRequest(f"{field} must be a decimal number written as a string, e.g. \"0.05\".")
    try:
        value = Decimal(str(text).strip())
    except decimal.InvalidOperation:
        raise exceptions.BadRequest(f"{field} {text!r} is not a decimal number.") from None
    if not value.is_finite() or value < 0 or value >= MAX_PRICE:
        raise exceptions.BadRequest(f"{field} must be at least 0 and below {MAX_PRICE}.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PRICE_PLACES:
        raise exceptions.BadRequest(f"{field} has more than {PRICE_PLACES} decimal places.")
    return value


def check_meter(meter: Any, flavor: Any) -> None:
    if meter not in meters.METERS:
        raise exceptions.BadRequest(f"meter {meter!r} is unknown; meters: {', '.join(meters.METERS)}.")
    if flavor and meter not in meters.PER_FLAVOR:
        raise exceptions.BadRequest(f"meter {meter!r} has no per-flavor prices; only "
                                    f"{', '.join(sorted(meters.PER_FLAVOR))} do.")


def from_config(items: list[str]) -> list[Price]:
    """``[metering] tariffs`` items, ``METER[/FLAVOR][@PROJECT]=PRICE``; ValueError naming a bad one."""
    out = []
    for item in items:
        key, sep, price = item.partition("=")
        if not sep:
            raise ValueError(f"[metering] tariffs: {item!r} is not METER[/FLAVOR][@PROJECT]=PRICE")
        key, _, project = key.strip().partition("@")
        meter, _, flavor = key.partition("/")
        try:
            check_meter(meter, flavor)
            out.append(Price(meter, flavor, project, parse_price(price.strip())))
        except exceptions.BadRequest as exc:
            raise ValueError(f"[metering] tariffs: {item!r}: {exc}") from None
    return out


class Tariffs:
    """The tariffs of the config and of the database, and the price that applies to a usage line."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database) -> None:
        self.conf = conf
        self.db = db

    def all(self) -> list[Price]:
        merged: dict[Key, Price] = {(p.meter, p.flavor, p.project_id): p
                                    for p in from_config(self.conf.metering.tariffs)}
        with self.db.reader() as s:
            for t in s.scalars(sa.select(Tariff).order_by(Tariff.created_at)):
                merged[(t.meter, t.flavor, t.project_id)] = Price(t.meter, t.flavor, t.project_id,
                                                                  Decimal(t.price), t.id)
        return sorted(merged.values(), key=lambda p: (p.meter, p.flavor, p.project_id))

    def table(self) -> dict[Key, Decimal]:
        return {(p.meter, p.flavor, p.project_id): p.price for p in self.all()}

    @staticmethod
    def price(table: dict[Key, Decimal], meter: str, flavor: str, project_id: str) -> Decimal:
        for key in ((meter, flavor, project_id), (meter, "", project_id), (meter, flavor, ""), (meter, "", "")):
            if key in table:
                return table[key]
        return Decimal(0)

    @retry_on_deadlock
    def create(self, meter: str, flavor: str, project_id: str, price: Decimal) -> Price:
        """A new API tariff; Conflict when one with the same meter, flavor and project exists."""
        with self.db.writer() as s:
            exists = s.scalar(sa.select(Tariff).where(Tariff.meter == meter, Tariff.flavor == flavor,
                                                      Tariff.project_id == project_id))
            if exists is not None:
                raise exceptions.Conflict(f"A tariff for meter {meter!r}, flavor {flavor!r} and project "
                                          f"{project_id!r} exists already ({exists.id}); delete it first.")
            row = Tariff(meter=meter, flavor=flavor, project_id=project_id, price=str(price))
            s.add(row)
            s.flush()
            return Price(meter, flavor, project_id, price, row.id)

    @retry_on_deadlock
    def delete(self, tariff_id: str) -> None:
        with self.db.writer() as s:
            row = s.get(Tariff, tariff_id)
            if row is None:
                raise exceptions.NotFound(f"Tariff {tariff_id} could not be found.")
            s.delete(row)
