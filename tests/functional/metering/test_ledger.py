"""The ledger and the bill on each database backend, without the rest of the cloud: hour records, redelivery,
late events, restarts, tariff precedence and rounding."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.db import migration
from nubis.common.db.engine import Database
from nubis.metering import conf as metering_conf
from nubis.metering import db as metering_db
from nubis.metering.core import ledger as ledger_mod
from nubis.metering.core import meters, tariffs
from nubis.metering.core.facade import MeteringCore
from nubis.metering.core.sources import Sources

T0 = datetime.datetime(2026, 11, 3, 9, 40, 0)
SMALL = meters.State(meters.INSTANCE, "p1", "active", "m.small", vcpus=1, memory_mb=512, disk_gb=1)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        return self.now


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    migration.upgrade(db, metering_db.migration_repo())
    yield db
    db.engine.dispose()


@pytest.fixture
def mconf(conf: cfg.ConfigOpts) -> cfg.ConfigOpts:
    conf.register_opts(metering_conf.OPTS, group="metering")
    return conf


def make_core(mconf: cfg.ConfigOpts, database: Database, clock: Clock) -> MeteringCore:
    return MeteringCore(mconf, database, Sources(None, None, None), clock)


def quantities(core: MeteringCore, start: str, end: str, project: str = "p1") -> dict[tuple[str, str], Decimal]:
    found = core.billing.quantities(core.period(None, start, end), project)[project]
    return {key: meters.unit_hours(key[0], q) for key, q in found.items()}


def hour_records(database: Database) -> dict[tuple[str, datetime.datetime], int]:
    rows = ledger_mod.records(database, datetime.datetime(2000, 1, 1), datetime.datetime(2100, 1, 1), None)
    return {(r.meter, r.hour): r.quantity for r in rows}


def test_spans_become_hour_records_once(mconf: Any, database: Database) -> None:
    clock = Clock()
    core = make_core(mconf, database, clock)
    assert core.ledger.apply("vm-1", T0, SMALL, ("m1", "instance.create.end"))
    # A redelivery of the same message changes nothing.
    assert not core.ledger.apply("vm-1", T0 + datetime.timedelta(hours=1), None, ("m1", "instance.create.end"))
    stop = T0 + datetime.timedelta(hours=2, minutes=5)  # 11:45
    assert core.ledger.apply("vm-1", stop, dataclasses.replace(SMALL, state="stopped"), ("m2", "instance.stop.end"))
    records = hour_records(database)
    # 09:40-10:00, 10:00-11:00, 11:00-11:45
    assert records[("instance", datetime.datetime(2026, 11, 3, 9))] == 20 * 60
    assert records[("instance", datetime.datetime(2026, 11, 3, 10))] == 3600
    assert records[("instance", datetime.datetime(2026, 11, 3, 11))] == 45 * 60
    assert records[("ram_gb", datetime.datetime(2026, 11, 3, 10))] == 512 * 3600
    # The open (stopped) span: counted live, then closed into records at the hour, never twice.
    clock.now = datetime.datetime(2026, 11, 3, 13, 30)
    before = quantities(core, "2026-11-03T00:00:00", "2026-11-04T00:00:00")
    assert before[("instance", "m.small")] == Decimal(230 * 60) / 3600  # 09:40-13:30
    assert before[("instance.running", "m.small")] == Decimal(125 * 60) / 3600  # 09:40-11:45
    assert core.close_hours() == 1
    assert core.close_hours() == 0
    assert quantities(core, "2026-11-03T00:00:00", "2026-11-04T00:00:00") == before
    # A core built again on the same database (a restart) sees the same.
    assert quantities(make_core(mconf, database, clock), "2026-11-03T00:00:00", "2026-11-04T00:00:00") == before
    # A period covering only part of the day takes only its hours.
    part = quantities(core, "2026-11-03T10:00:00", "2026-11-03T11:00:00")
    assert part[("instance", "m.small")] == 1 and part[("vcpu", "")] == 1


def test_a_late_event_never_rewrites_recorded_hours(mconf: Any, database: Database) -> None:
    clock = Clock()
    core = make_core(mconf, database, clock)
    core.ledger.apply("vm-2", T0, SMALL, ("c", "instance.create.end"))
    clock.now = datetime.datetime(2026, 11, 3, 12, 10)
    core.close_hours()  # recorded up to 12:00
    # A stop that happened at 11:00 arrives now: it takes effect from 12:00, what was recorded stays.
    core.ledger.apply("vm-2", datetime.datetime(2026, 11, 3, 11), dataclasses.replace(SMALL, state="stopped"),
                      ("s", "instance.stop.end"))
    got = quantities(core, "2026-11-03T00:00:00", "2026-11-04T00:00:00")
    assert got[("instance.running", "m.small")] == Decimal(140 * 60) / 3600  # 09:40-12:00
    assert got[("instance", "m.small")] == Decimal(150 * 60) / 3600  # 09:40-12:10
    # Deleting closes it; later events about it are remembered but change nothing.
    core.ledger.apply("vm-2", clock.now, None, ("d", "instance.delete.end"))
    assert core.ledger.apply("vm-2", clock.now, SMALL, ("late", "instance.power_on.end"))
    clock.now += datetime.timedelta(hours=5)
    assert quantities(core, "2026-11-03T00:00:00", "2026-11-04T00:00:00") == got


def test_tariff_precedence_and_rounding_to_the_cent(mconf: Any, database: Database) -> None:
    mconf.set_override("tariffs", ["instance=0.01", "instance/m.small=0.02", "instance@p1=0.03",
                                   "instance/m.small@p1=0.045", "vcpu=0.0005"], group="metering")
    clock = Clock()
    core = make_core(mconf, database, clock)
    table = core.tariffs.table()
    assert tariffs.Tariffs.price(table, "instance", "m.small", "p1") == Decimal("0.045")
    assert tariffs.Tariffs.price(table, "instance", "m.big", "p1") == Decimal("0.03")
    assert tariffs.Tariffs.price(table, "instance", "m.small", "p2") == Decimal("0.02")
    assert tariffs.Tariffs.price(table, "instance", "m.big", "p2") == Decimal("0.01")
    assert tariffs.Tariffs.price(table, "floating_ip", "", "p2") == Decimal(0)
    # An API tariff replaces the configured one with the same key.
    made = core.create_tariff("instance", "m.small", "p1", "0.05")
    assert tariffs.Tariffs.price(core.tariffs.table(), "instance", "m.small", "p1") == Decimal("0.05")
    with pytest.raises(exceptions.Conflict):
        core.create_tariff("instance", "m.small", "p1", "0.06")
    core.delete_tariff(made.id)  # type: ignore[arg-type]
    # 1 h 30 min at 0.045 = 0.0675 -> 0.07 (half up); 1.5 vCPU-hours at 0.0005 = 0.00075 -> 0.00
    core.ledger.apply("vm-3", T0, SMALL, ("c3", "instance.create.end"))
    core.ledger.apply("vm-3", T0 + datetime.timedelta(minutes=90), None, ("d3", "instance.delete.end"))
    report = core.usage(core.period("2026-11", None, None), "p1")[0]
    lines = {(line["meter"], line["flavor"]): line for line in report["lines"]}
    assert lines[("instance", "m.small")]["cost"] == "0.07"
    assert lines[("instance", "m.small")]["quantity"] == "1.500000"
    assert lines[("vcpu", None)]["cost"] == "0.00"
    assert report["total"] == "0.07"
    # Nobody else's usage, and an empty bill for a project with none.
    assert core.usage(core.period("2026-11", None, None), "p9")[0] == {
        "project_id": "p9", "start": "2026-11-01T00:00:00", "end": "2026-12-01T00:00:00", "currency": "EUR",
        "lines": [], "total": "0.00"}


@pytest.mark.parametrize("item", ["instance", "bandwidth=1", "vcpu/m.small=1", "vcpu=-1", "vcpu=0.000000001",
                                  "vcpu=abc"])
def test_bad_configured_tariffs_are_named(item: str) -> None:
    with pytest.raises(ValueError, match="tariffs"):
        tariffs.from_config([item])


def test_two_processes_closing_the_same_hours_record_them_once(mconf: Any, database: Database) -> None:
    import threading

    clock = Clock()
    first = make_core(mconf, database, clock)
    for i in range(40):
        first.ledger.apply(f"fip-{i}", T0, meters.State(meters.FLOATING_IP, "p1", "allocated"))
    clock.now = T0 + datetime.timedelta(hours=6)
    cores = [first, make_core(mconf, Database(database.url), clock)]  # its own engine: another process
    threads = [threading.Thread(target=c.close_hours) for c in cores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    per_resource = sum(r.quantity for r in ledger_mod.records(database, T0 - datetime.timedelta(hours=1),
                                                              clock.now, "p1"))
    # 09:40 to 15:00 for 40 addresses, once each
    assert per_resource == 40 * (5 * 3600 + 20 * 60)
