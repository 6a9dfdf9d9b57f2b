"""Time for the ledger: naive UTC, whole seconds, and hour boundaries."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator

from nubis.common.db import types

Clock = Callable[[], datetime.datetime]
HOUR = datetime.timedelta(hours=1)


def system_clock() -> datetime.datetime:
    """Now, as every Nubis service records it (naive UTC)."""
    return types.utcnow()


def second(value: datetime.datetime) -> datetime.datetime:
    """``value`` as naive UTC cut to the whole second: the ledger counts whole seconds, so sums are integers."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def hour_floor(value: datetime.datetime) -> datetime.datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def hours_between(start: datetime.datetime, end: datetime.datetime) -> Iterator[tuple[datetime.datetime, int]]:
    """``(hour, seconds)`` for every hour the span ``[start, end)`` touches, with the seconds it spends in it."""
    cursor = start
    while cursor < end:
        hour = hour_floor(cursor)
        stop = min(end, hour + HOUR)
        yield hour, int((stop - cursor).total_seconds())
        cursor = stop


def parse_timestamp(text: str) -> datetime.datetime:
    """oslo.messaging's notification timestamp (``2026-11-03 10:00:00.123456``, UTC) or ISO 8601."""
    return second(datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
