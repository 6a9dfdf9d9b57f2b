"""Outbound GB from the network agents' ``network.outgoing.bytes`` counters, on each database backend: the first
sample is a baseline, growth is counted in its hour, a restarted counter counts from zero, a redelivery changes
nothing, a deleted port stops counting, and the bill prices GB to the cent."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from oslo_config import cfg

from nubis.common.db import migration
from nubis.common.db.engine import Database
from nubis.metering import conf as metering_conf
from nubis.metering import db as metering_db
from nubis.metering.core import meters
from tests.functional.metering.test_ledger import T0, Clock, make_core

GB = 10**9


def sample(core: Any, port: str, at: datetime.datetime, counter: int, message_id: str | None = None) -> bool:
    return core.collector.handle("network.outgoing.bytes",
                                 {"port_id": port, "project_id": "p1", "device_id": "server-1", "bytes": counter},
                                 {"message_id": message_id or uuid.uuid4().hex, "timestamp": str(at)})


def test_outbound_gb_from_counters(conf: cfg.ConfigOpts, db_url: str) -> None:
    conf.register_opts(metering_conf.OPTS, group="metering")
    conf.set_override("tariffs", ["outbound_gb=0.09"], group="metering")
    database = Database(db_url)
    migration.upgrade(database, metering_db.migration_repo())
    clock = Clock()
    core = make_core(conf, database, clock)
    hour = T0.replace(minute=0)
    assert sample(core, "port-a", hour + datetime.timedelta(minutes=5), 7 * GB)  # baseline: not billed
    assert sample(core, "port-a", hour + datetime.timedelta(minutes=35), 9 * GB, "m-2")  # +2 GB in hour 0
    assert not sample(core, "port-a", hour + datetime.timedelta(minutes=35), 9 * GB, "m-2")  # redelivered
    assert sample(core, "port-a", hour + datetime.timedelta(minutes=65), int(9.5 * GB))  # +0.5 GB in hour 1
    # The guest restarted: its new tap counts from 0
    assert sample(core, "port-a", hour + datetime.timedelta(minutes=95), int(0.25 * GB))  # +0.25 GB
    assert core.collector.handle("port.delete.end", {"port_id": "port-a"},
                                 {"message_id": "gone", "timestamp": str(hour + datetime.timedelta(minutes=100))})
    sample(core, "port-a", hour + datetime.timedelta(minutes=110), 5 * GB)  # after deletion: nothing
    # A port never sampled is not in the ledger; its deletion changes nothing.
    assert not core.collector.handle("port.delete.end", {"port_id": "other"},
                                     {"message_id": "other", "timestamp": str(hour)})
    for bad in ({"port_id": "port-b", "project_id": "p1", "bytes": -1}, {"port_id": "port-b", "bytes": 5},
                {"port_id": "port-b", "project_id": "p1", "bytes": "5"}):
        assert not core.collector.handle("network.outgoing.bytes", bad, {"message_id": uuid.uuid4().hex,
                                                                         "timestamp": str(hour)})

    clock.now = hour + datetime.timedelta(hours=3)
    period = core.period(None, hour.isoformat(), (hour + datetime.timedelta(hours=3)).isoformat())
    usage = core.usage(period, "p1")[0]
    lines = {line["meter"]: (line["unit"], line["quantity"], line["price"], line["cost"]) for line in usage["lines"]}
    # 2.75 GB at 0.09 = 0.2475 -> 0.25
    assert lines == {"outbound_gb": ("GB", "2.750000", "0.09", "0.25")}
    assert usage["total"] == "0.25"
    per_hour = core.usage(core.period(None, hour.isoformat(), (hour + datetime.timedelta(hours=1)).isoformat()),
                          "p1")[0]["lines"]
    assert [(line["meter"], line["quantity"]) for line in per_hour] == [("outbound_gb", "2.000000")]
    assert core.ledger.get("port-a").deleted_at is not None  # type: ignore[union-attr]
    assert meters.rates(meters.State(meters.PORT, "p1", "counting")) == []
    database.engine.dispose()
