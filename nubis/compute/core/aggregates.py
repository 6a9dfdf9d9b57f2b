"""Host aggregates (admin): named groups of hosts with metadata; ``availability_zone`` metadata makes a zone."""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.compute.core.host_settings import ZONE_KEY, HostSettings
from nubis.compute.db.models import Aggregate, AggregateHost, Instance, Service


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise exceptions.BadRequest(f"Invalid input for field/attribute {what}: a string of 1-255 characters "
                                    "is required.")
    return name.strip()


def _check_zone(zone: Any) -> str | None:
    if zone is None:
        return None
    zone = _check_name(zone, "availability_zone")
    if ":" in zone:
        raise exceptions.BadRequest(f"Invalid availability zone {zone!r}: it may not contain ':'.")
    return zone


class AggregateStore:
    def __init__(self, db: Database, settings: HostSettings) -> None:
        self.db = db
        self.settings = settings

    @staticmethod
    def view(agg: Aggregate, with_members: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": agg.id, "uuid": agg.uuid, "name": agg.name,
            "availability_zone": (agg.metadata_items or {}).get(ZONE_KEY),
            "created_at": _iso(agg.created_at), "updated_at": _iso(agg.updated_at),
            "deleted": False, "deleted_at": None}
        if with_members:
            body["hosts"] = sorted(h.host for h in agg.hosts)
            body["metadata"] = dict(agg.metadata_items or {})
        return body

    @staticmethod
    def _get(s: orm.Session, aggregate_id: str) -> Aggregate:
        agg = s.get(Aggregate, int(aggregate_id)) if str(aggregate_id).isdigit() else None
        if agg is None:
            raise exceptions.NotFound(f"Aggregate {aggregate_id} could not be found.")
        return agg

    def list(self) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            return [self.view(a) for a in s.scalars(sa.select(Aggregate).order_by(Aggregate.id))]

    def get(self, aggregate_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return self.view(self._get(s, aggregate_id))

    def _unique_name(self, s: orm.Session, name: str, own_id: int | None = None) -> None:
        clash = s.scalar(sa.select(Aggregate).where(Aggregate.name == name))
        if clash is not None and clash.id != own_id:
            raise exceptions.Conflict(f"Aggregate {name} already exists.")

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        spec = body.get("aggregate")
        if not isinstance(spec, dict) or set(spec) - {"name", "availability_zone"}:
            raise exceptions.BadRequest("The body must be {\"aggregate\": {\"name\": ..., \"availability_zone\": "
                                        "...}} (availability_zone optional).")
        name, zone = _check_name(spec.get("name"), "name"), _check_zone(spec.get("availability_zone"))
        try:
            with self.db.writer() as s:
                self._unique_name(s, name)
                agg = Aggregate(name=name, metadata_items={ZONE_KEY: zone} if zone else {})
                s.add(agg)
                s.flush()
                return self.view(agg, with_members=False)
        except sa.exc.IntegrityError:
            raise exceptions.Conflict(f"Aggregate {name} already exists.") from None

    def update(self, ctx: RequestContext, aggregate_id: str, body: dict[str, Any]) -> dict[str, Any]:
        spec = body.get("aggregate")
        if not isinstance(spec, dict) or not spec or set(spec) - {"name", "availability_zone"}:
            raise exceptions.BadRequest("Give the aggregate's new name and/or availability_zone.")
        metadata = {ZONE_KEY: _check_zone(spec["availability_zone"])} if "availability_zone" in spec else {}
        if "name" in spec:
            name = _check_name(spec["name"], "name")
            with self.db.writer() as s:
                agg = self._get(s, aggregate_id)
                self._unique_name(s, name, agg.id)
                agg.name, agg.updated_at = name, types.utcnow()
        return self.set_metadata(ctx, aggregate_id, metadata)

    def delete(self, aggregate_id: str) -> None:
        with self.db.writer() as s:
            agg = self._get(s, aggregate_id)
            if agg.hosts:
                raise exceptions.BadRequest(f"Cannot delete aggregate {aggregate_id}: it still has hosts "
                                            f"({', '.join(sorted(h.host for h in agg.hosts))}); remove them first.")
            s.delete(agg)

    def _check_zone_move(self, s: orm.Session, agg_id: int, hosts: builtins.list[str], new_zone: str | None) -> None:
        """Refuse unless each host stays in one zone, and a host running instances keeps its zone.

        ``new_zone`` is the zone aggregate ``agg_id`` will give its hosts (None: none).
        """
        zones = self.settings.zones(s)
        for host in hosts:
            others = {a.metadata_items.get(ZONE_KEY) for a in s.scalars(
                sa.select(Aggregate).join(AggregateHost).where(AggregateHost.host == host, Aggregate.id != agg_id))
                if (a.metadata_items or {}).get(ZONE_KEY)}
            if new_zone and others - {new_zone}:
                raise exceptions.BadRequest(
                    f"Cannot add host {host} to aggregate {agg_id}: the host is already in availability zone(s) "
                    f"{', '.join(sorted(others))}, and a host can be in one zone only.")
            current = zones.get(host, self.settings.default_zone)
            after = new_zone or next(iter(others), None) or self.settings.default_zone
            if after != current and s.scalar(sa.select(sa.func.count()).select_from(Instance).where(
                    Instance.host == host, Instance.deleted.is_(False))):
                raise exceptions.BadRequest(
                    f"Cannot move host {host} from availability zone {current} to {after}: it runs instances.")

    def add_host(self, ctx: RequestContext, aggregate_id: str, host: Any) -> dict[str, Any]:
        host = _check_name(host, "host")
        with self.db.writer() as s:
            agg = self._get(s, aggregate_id)
            if s.scalar(sa.select(Service).where(Service.host == host, Service.binary == "nubis-compute")) is None:
                raise exceptions.NotFound(f"Compute host {host} could not be found.")
            if any(h.host == host for h in agg.hosts):
                raise exceptions.Conflict(f"Aggregate {aggregate_id} already has host {host}.")
            self._check_zone_move(s, agg.id, [host], (agg.metadata_items or {}).get(ZONE_KEY))
            agg.hosts.append(AggregateHost(host=host))
            agg.updated_at = types.utcnow()
        self.settings.push(ctx, [host])
        return self.get(aggregate_id)

    def remove_host(self, ctx: RequestContext, aggregate_id: str, host: Any) -> dict[str, Any]:
        host = _check_name(host, "host")
        with self.db.writer() as s:
            agg = self._get(s, aggregate_id)
            member = next((h for h in agg.hosts if h.host == host), None)
            if member is None:
                raise exceptions.NotFound(f"Cannot remove host {host} in aggregate {aggregate_id}: it is not a "
                                          "member.")
            if (agg.metadata_items or {}).get(ZONE_KEY):
                self._check_zone_move(s, agg.id, [host], None)
            agg.hosts.remove(member)
            agg.updated_at = types.utcnow()
        self.settings.push(ctx, [host])
        return self.get(aggregate_id)

    def set_metadata(self, ctx: RequestContext, aggregate_id: str, changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into the metadata; a ``null`` value removes its key."""
        if not isinstance(changes, dict) or not all(
                isinstance(k, str) and 0 < len(k) <= 255 and (v is None or (isinstance(v, str) and len(v) <= 255))
                for k, v in changes.items()):
            raise exceptions.BadRequest("metadata must be an object of strings (keys 1-255, values up to 255 "
                                        "characters, or null to remove a key).")
        with self.db.writer() as s:
            agg = self._get(s, aggregate_id)
            merged = dict(agg.metadata_items or {})
            if ZONE_KEY in changes:
                zone = _check_zone(changes[ZONE_KEY])
                if zone != merged.get(ZONE_KEY):
                    self._check_zone_move(s, agg.id, [h.host for h in agg.hosts], zone)
            for key, value in changes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            agg.metadata_items, agg.updated_at = merged, types.utcnow()
            hosts = [h.host for h in agg.hosts]
        self.settings.push(ctx, hosts)
        return self.get(aggregate_id)
