"""Metering throughput: versioned notifications in, ledger changes (with their hour records) out.

    python -m tools.bench.metering [--events 2000] [--db sqlite|URL]

The notifications go through oslo.messaging's in-process transport to the metering service's own listener
(the same code ``nubis-metering`` runs), as pairs of ``floatingip.create.end`` / ``floatingip.delete.end``
an hour and a half apart (each delete writes two hour records). No other service is involved: the figure
is the collector and the ledger's, per notification.
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
import uuid

import sqlalchemy as sa
from oslo_utils import timeutils

from nubis.cmd import common
from nubis.common import config, context, rpc
from nubis.common.db import migration
from nubis.common.db.engine import Database
from nubis.metering import db as metering_db
from nubis.metering import service as metering_service
from nubis.metering.core.collector import Listener
from nubis.metering.core.facade import MeteringCore
from nubis.metering.core.sources import Sources
from nubis.metering.db.models import ProcessedEvent
from tools.bench import _service, figures


def run(url: str, events: int) -> float:
    """Seconds the listener took to apply ``events`` notifications (sent as fast as the notifier can)."""
    conf = common.build_conf([metering_service.SERVICE])
    config.parse_args(conf, [], default_config_files=[])
    database = Database(url)
    migration.upgrade(database, metering_db.migration_repo())
    messaging = rpc.Messaging(conf)
    core = MeteringCore(conf, database, Sources(None, None, None))
    listener = Listener(messaging, f"bench-{uuid.uuid4().hex[:6]}", core.collector).start()
    notifier = rpc.Notifier(messaging, "network", "bench")
    ctx = context.admin_context()
    start_at = datetime.datetime(2026, 11, 1, 0, 30)
    began = time.monotonic()
    try:
        for i in range(events // 2):
            fip = str(uuid.uuid4())
            timeutils.set_time_override(start_at + datetime.timedelta(minutes=i))
            notifier.info(ctx, "floatingip.create.end", {"floatingip": {"id": fip, "project_id": "bench"}})
            timeutils.set_time_override(start_at + datetime.timedelta(minutes=i + 90))
            notifier.info(ctx, "floatingip.delete.end", {"floatingip_id": fip})
        timeutils.clear_time_override()
        while True:
            with database.reader() as s:
                done = s.scalar(sa.select(sa.func.count()).select_from(ProcessedEvent))
            if done >= events // 2 * 2:
                break
            time.sleep(0.05)
        return time.monotonic() - began
    finally:
        timeutils.clear_time_override()
        listener.stop()
        messaging.cleanup()
        database.engine.dispose()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as state, _service.scratch_database(args.db, state, "metering") as url:
        seconds = run(url, args.events)
        backend = sa.engine.make_url(url).get_backend_name()
        rate = args.events / seconds
        figures.record("metering", "notifications processed", rate, "/s", backend=backend, events=args.events)
        print(f"{backend:10s} {args.events} notifications in {seconds:.2f} s: {rate:.0f}/s", flush=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
