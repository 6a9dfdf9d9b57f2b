"""The ledger: resources' current state, and hour-aligned usage records written as time passes.

A resource's span from ``since`` to a change is written into ``usage_record`` (one row per meter per hour)
in the same transaction that applies the change and remembers the event's message id. So a redelivered
notification finds its id and changes nothing, a restart loses nothing (all is in the database), and no
second is counted twice: once written, a span is behind ``since``.

Rows are locked while they change, so several collector processes (one listener pool) never record a
span twice. A change older than ``since`` (a late notification, after the audit or the hour's close moved ``since``
on) takes effect at ``since``: usage already recorded is never rewritten.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.metering.core import clock, meters
from nubis.metering.db.models import ProcessedEvent, Resource, UsageRecord


def state_of(row: Resource) -> meters.State:
    return meters.State(row.resource_type, row.project_id, row.state, row.flavor, row.vcpus, row.memory_mb,
                        row.disk_gb, row.size_bytes)


class Ledger:
    """Applies changes to resources and writes the usage they close; one writer per process at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # The collector's threads and the periodic tasks write the same rows; the unique record key
        # still protects against a second process.
        self._lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------------------------
    def get(self, resource_id: str) -> Resource | None:
        with self.db.reader() as s:
            row = s.get(Resource, resource_id)
            if row is not None:
                s.expunge(row)
            return row

    def open_resources(self, resource_type: str | None = None, project_id: str | None = None) -> list[Resource]:
        """Resources not deleted (their current span is open), of one type and/or project if given."""
        q = sa.select(Resource).where(Resource.deleted_at.is_(None))
        if resource_type:
            q = q.where(Resource.resource_type == resource_type)
        if project_id is not None:
            q = q.where(Resource.project_id == project_id)
        with self.db.reader() as s:
            rows = list(s.scalars(q))
            s.expunge_all()
            return rows

    def events(self, resource_id: str) -> list[str]:
        """The event types applied to ``resource_id``, oldest first."""
        with self.db.reader() as s:
            return list(s.scalars(sa.select(ProcessedEvent.event_type).where(ProcessedEvent.resource_id == resource_id)
                                  .order_by(ProcessedEvent.occurred_at)))

    def seen(self, message_id: str) -> bool:
        with self.db.reader() as s:
            return s.get(ProcessedEvent, message_id) is not None

    # -- writing ------------------------------------------------------------------------------------------
    @retry_on_deadlock
    def apply(self, resource_id: str, at: datetime.datetime, new: meters.State | None,
              event: tuple[str, str] | None = None) -> bool:
        """Record ``resource_id``'s usage up to ``at``, then make ``new`` its state from ``at`` on (``new``
        None, or in state ``deleted``: it is gone at ``at``). ``event`` is ``(message_id, event_type)``; an
        event already applied changes nothing. Returns whether anything changed."""
        at = clock.second(at)
        with self._lock, self.db.writer() as s:
            if event is not None:
                if s.get(ProcessedEvent, event[0]) is not None:
                    return False
                s.add(ProcessedEvent(message_id=event[0], event_type=event[1], resource_id=resource_id,
                                     occurred_at=at))
            # Locked: another collector process applying a change to it waits, then sees the new ``since``.
            row = s.get(Resource, resource_id, with_for_update=True)
            if row is None:
                if new is None or new.state == "deleted":
                    return event is not None
                s.add(self._new_row(resource_id, new, at))
                return True
            if row.deleted_at is not None:
                return event is not None  # a late event about a resource already gone
            at = max(at, row.since)
            self._record(s, row, at)
            if new is None or new.state == "deleted":
                row.deleted_at = at
                row.state = "deleted"
            else:
                self._assign(row, new)
            row.since = at
            return True

    @retry_on_deadlock
    def add_counter(self, resource_id: str, project_id: str, meter: str, at: datetime.datetime, counter: int,
                    event: tuple[str, str]) -> bool:
        """Record what a cumulative ``counter`` (bytes) of ``resource_id`` grew by since its previous sample, in
        the hour of ``at``. The first sample of a resource is its baseline (what was counted before metering saw
        it is not billed); a smaller value than the last is a restarted counter, counted from 0. Returns whether
        anything changed (False: a redelivered ``event``, or a resource already deleted)."""
        at = clock.second(at)
        with self._lock, self.db.writer() as s:
            if s.get(ProcessedEvent, event[0]) is not None:
                return False
            s.add(ProcessedEvent(message_id=event[0], event_type=event[1], resource_id=resource_id, occurred_at=at))
            row = s.get(Resource, resource_id, with_for_update=True)
            if row is None:
                row = self._new_row(resource_id, meters.State(meters.PORT, project_id, "counting"), at)
                row.size_bytes = counter
                s.add(row)
                return True
            if row.deleted_at is not None:
                return True
            grown = counter - row.size_bytes if counter >= row.size_bytes else counter
            if grown > 0:
                _add(s, row, meter, "", clock.hour_floor(at), grown)
            row.size_bytes = counter
            return True

    @retry_on_deadlock
    def close_hours(self, now: datetime.datetime) -> int:
        """Write every open span up to the last hour boundary before ``now``; returns how many resources had
        one. The usage of finished hours is then in records, and only the current hour is left open."""
        boundary = clock.hour_floor(clock.second(now))
        with self._lock, self.db.writer() as s:
            rows = list(s.scalars(sa.select(Resource).where(Resource.deleted_at.is_(None), Resource.since < boundary)
                                  .with_for_update()))
            closed = 0
            for row in rows:
                if row.since >= boundary:  # moved on by another process while we waited for its lock
                    continue
                self._record(s, row, boundary)
                row.since = boundary
                closed += 1
            return closed

    # -- helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def _new_row(resource_id: str, state: meters.State, at: datetime.datetime) -> Resource:
        row = Resource(id=resource_id, since=at, deleted_at=None)
        Ledger._assign(row, state)
        return row

    @staticmethod
    def _assign(row: Resource, state: meters.State) -> None:
        row.resource_type, row.project_id, row.state = state.resource_type, state.project_id, state.state
        row.flavor, row.vcpus, row.memory_mb = state.flavor, state.vcpus, state.memory_mb
        row.disk_gb, row.size_bytes = state.disk_gb, state.size_bytes

    @staticmethod
    def _record(s: orm.Session, row: Resource, until: datetime.datetime) -> None:
        """Add ``row``'s usage over ``[row.since, until)`` to the hour records."""
        rates = meters.rates(state_of(row))
        if not rates or until <= row.since:
            return
        for hour, seconds in clock.hours_between(row.since, until):
            for meter, flavor, per_second in rates:
                if per_second <= 0:
                    continue
                _add(s, row, meter, flavor, hour, seconds * per_second)


def _add(s: orm.Session, row: Resource, meter: str, flavor: str, hour: datetime.datetime, quantity: int) -> None:
    record = s.scalar(sa.select(UsageRecord).where(UsageRecord.resource_id == row.id, UsageRecord.meter == meter,
                                                   UsageRecord.flavor == flavor, UsageRecord.hour == hour))
    if record is None:
        s.add(UsageRecord(project_id=row.project_id, resource_type=row.resource_type, resource_id=row.id,
                          meter=meter, flavor=flavor, hour=hour, quantity=quantity))
        s.flush()
    else:
        record.quantity += quantity


def records(db: Database, start: datetime.datetime, end: datetime.datetime,
            project_id: str | None) -> Iterable[UsageRecord]:
    """Usage records of the hours in ``[start, end)`` (one project's, or every project's)."""
    q = sa.select(UsageRecord).where(UsageRecord.hour >= start, UsageRecord.hour < end)
    if project_id is not None:
        q = q.where(UsageRecord.project_id == project_id)
    with db.reader() as s:
        rows = list(s.scalars(q.order_by(UsageRecord.hour, UsageRecord.id)))
        s.expunge_all()
    return rows


def sums(db: Database, start: datetime.datetime, end: datetime.datetime,
         project_id: str | None) -> list[tuple[str, str, str, int]]:
    """``(project_id, meter, flavor, unit-seconds)`` summed in SQL over the hours in ``[start, end)``."""
    q = (sa.select(UsageRecord.project_id, UsageRecord.meter, UsageRecord.flavor, sa.func.sum(UsageRecord.quantity))
         .where(UsageRecord.hour >= start, UsageRecord.hour < end)
         .group_by(UsageRecord.project_id, UsageRecord.meter, UsageRecord.flavor))
    if project_id is not None:
        q = q.where(UsageRecord.project_id == project_id)
    with db.reader() as s:
        return [(p, m, f, int(q_)) for p, m, f, q_ in s.execute(q)]
