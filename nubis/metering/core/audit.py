"""The audit: compares the ledger with what the services say exists now and corrects it.

A missed notification leaves the ledger wrong until the next audit (``[metering] audit_interval``):

- a server, image, floating IP, router, volume or snapshot the ledger does not know is metered from when it
  began (a server's ``launched_at``, the others' ``created_at``);
- one whose state or sizes differ is changed as of its ``updated`` time (never before what is recorded);
- one the ledger holds open but the service no longer lists is closed at its ``terminated_at`` (servers;
  found among the deleted ones) or at the audit's time.

Every correction goes through ``Ledger.apply``, so an hour already recorded is never counted twice.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Iterable
from typing import Any

from keystoneauth1 import exceptions as ks_exceptions

from nubis.metering.core import clock, meters
from nubis.metering.core.ledger import Ledger, state_of
from nubis.metering.core.sources import Sources

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class AuditResult:
    """How many resources each kind of correction touched."""

    opened: int = 0
    changed: int = 0
    closed: int = 0

    def add(self, other: AuditResult) -> None:
        self.opened += other.opened
        self.changed += other.changed
        self.closed += other.closed


def _time(item: dict[str, Any], *keys: str) -> datetime.datetime | None:
    for key in keys:
        text = item.get(key)
        if text:
            return clock.parse_timestamp(text)
    return None


class Auditor:
    def __init__(self, ledger: Ledger, sources: Sources, now: clock.Clock) -> None:
        self.ledger = ledger
        self.sources = sources
        self.now = now

    def run(self) -> AuditResult:
        """One audit of every kind of resource whose service is reachable (a kind whose service is not in
        the catalog, or does not answer, is left for the next audit)."""
        result = AuditResult()
        kinds = [(meters.INSTANCE, self.sources.compute, self.servers),
                 (meters.IMAGE, self.sources.image, lambda: self._reconcile(meters.IMAGE, (
                     (img["id"], st, _time(img, "created_at"), _time(img, "updated_at"))
                     for img, st in self.sources.images()))),
                 (meters.FLOATING_IP, self.sources.network, lambda: self._reconcile(meters.FLOATING_IP, (
                     (f["id"], st, _time(f, "created_at"), _time(f, "updated_at"))
                     for f, st in self.sources.floating_ips()))),
                 (meters.ROUTER, self.sources.network, lambda: self._reconcile(meters.ROUTER, (
                     (r["id"], st, _time(r, "created_at"), _time(r, "updated_at"))
                     for r, st in self.sources.routers()))),
                 (meters.VOLUME, self.sources.volume, lambda: self._reconcile(meters.VOLUME, (
                     (v["id"], st, _time(v, "created_at"), _time(v, "updated_at"))
                     for v, st in self.sources.volumes()))),
                 (meters.SNAPSHOT, self.sources.volume, lambda: self._reconcile(meters.SNAPSHOT, (
                     (sn["id"], st, _time(sn, "created_at"), _time(sn, "updated_at"))
                     for sn, st in self.sources.snapshots())))]
        for kind, adapter, audit in kinds:
            if adapter is None:
                continue
            try:
                result.add(audit())
            except ks_exceptions.ClientException as exc:
                LOG.warning("Audit of %s skipped: %s", kind, exc)
        self.ledger.close_hours(self.now())
        return result

    def servers(self) -> AuditResult:
        now = clock.second(self.now())
        live = [s for s in self.sources.servers() if s.get("OS-SRV-USG:launched_at")]
        result = self._reconcile(meters.INSTANCE, ((s["id"], Sources.server_state(s), Sources.launched_at(s),
                                                    _time(s, "updated")) for s in live), close_missing=False)
        present = {s["id"] for s in live}
        missing = [r for r in self.ledger.open_resources(meters.INSTANCE) if r.id not in present]
        if missing:
            oldest = min(r.since for r in missing)
            ended = {s["id"]: Sources.terminated_at(s) for s in self.sources.servers(changes_since=oldest)
                     if s.get("OS-EXT-STS:vm_state") == "deleted" or s.get("status") == "DELETED"}
            for row in missing:
                at = ended.get(row.id) or now
                LOG.info("Audit: server %s is gone; closing its usage at %s", row.id, at.isoformat())
                if self.ledger.apply(row.id, min(at, now), None):
                    result.closed += 1
        return result

    def _reconcile(self, kind: str, current: Iterable[tuple[str, meters.State, datetime.datetime | None,
                                                            datetime.datetime | None]],
                   close_missing: bool = True) -> AuditResult:
        now = clock.second(self.now())
        result = AuditResult()
        present = set()
        for resource_id, state, began, updated in current:
            present.add(resource_id)
            known = self.ledger.get(resource_id)
            if known is None:
                if meters.rates(state) or kind not in (meters.IMAGE, meters.VOLUME, meters.SNAPSHOT):
                    LOG.info("Audit: %s %s was not metered; metering it from %s", kind, resource_id, began)
                    self.ledger.apply(resource_id, min(began or now, now), state)
                    result.opened += 1
            elif known.deleted_at is None and state_of(known) != state:
                LOG.info("Audit: %s %s changed unseen; correcting it", kind, resource_id)
                self.ledger.apply(resource_id, min(updated or now, now), state)
                result.changed += 1
        if close_missing:
            for row in self.ledger.open_resources(kind):
                if row.id not in present:
                    LOG.info("Audit: %s %s is gone; closing its usage", kind, row.id)
                    self.ledger.apply(row.id, now, None)
                    result.closed += 1
        return result
