"""Snapshots of volumes: made and removed by the volume's host (status creating → available, deleting)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.core import listing, records
from nubis.volume.core.quotas import QuotaStore
from nubis.volume.db.models import Snapshot, SnapshotMetadata, Volume
from nubis.volume.manager.rpcapi import VolumeManagerAPI

# os-update_snapshot_status: the statuses a snapshot may be moved to from its current one (Cinder's map).
UPDATABLE_STATUS = {"creating": ("creating", "available", "error"), "deleting": ("deleting", "error_deleting")}
# As for volumes: Cinder bounds metadata items with a quota of their own; Nubis here.
MAX_METADATA = 128


def _metadata(s: Any, snapshot_ids: list[str]) -> dict[str, dict[str, str]]:
    """Each snapshot's metadata, one query for all of them."""
    out: dict[str, dict[str, str]] = {i: {} for i in snapshot_ids}
    if snapshot_ids:
        for sid, key, value in s.execute(sa.select(SnapshotMetadata.snapshot_id, SnapshotMetadata.key,
                                                   SnapshotMetadata.value)
                                         .where(SnapshotMetadata.snapshot_id.in_(snapshot_ids))):
            out[sid][key] = value
    return out


def _dict(s: Any, sn: Snapshot) -> dict[str, Any]:
    return records.snapshot_to_dict(sn, _metadata(s, [sn.id])[sn.id])


class SnapshotStore:
    """Snapshots of a project as dicts (``records.snapshot_to_dict``)."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, quotas: QuotaStore, manager: VolumeManagerAPI) -> None:
        self.conf = conf
        self.db = db
        self.quotas = quotas
        self.manager = manager

    @staticmethod
    def _row(s: Any, ctx: RequestContext, snapshot_id: str) -> Snapshot:
        sn = s.get(Snapshot, snapshot_id)
        if sn is None or (sn.project_id != ctx.project_id and not ctx.is_admin):
            raise exceptions.NotFound(f"Snapshot {snapshot_id} could not be found.")
        return sn  # type: ignore[no-any-return]

    def owner(self, snapshot_id: str) -> str | None:
        with self.db.reader() as s:
            sn = s.get(Snapshot, snapshot_id)
            return sn.project_id if sn is not None else None

    def get(self, ctx: RequestContext, snapshot_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return _dict(s, self._row(s, ctx, snapshot_id))

    def list(self, ctx: RequestContext, query: listing.ListQuery) -> tuple[list[dict[str, Any]], bool]:
        with self.db.reader() as s:
            found = listing.page(s, Snapshot, query, ctx.require_project_id(), self.conf.volume.osapi_max_limit)
            items = _metadata(s, [sn.id for sn in found.rows])
            return [records.snapshot_to_dict(sn, items[sn.id]) for sn in found.rows], found.more

    def create(self, ctx: RequestContext, volume_id: str, name: str | None, description: str | None,
               force: bool, metadata: dict[str, str] | None = None) -> dict[str, Any]:
        """Snapshot an available volume (an in-use one with ``force``) with ``metadata``: 202, status creating.

        404 for a volume the caller cannot see; 400 for one in another state; 413 over quota.
        """
        with self.db.reader() as s:
            owner = s.scalar(sa.select(Volume.project_id).where(Volume.id == volume_id))
        self.quotas.ensure_lock(owner or ctx.require_project_id())
        with self.db.writer() as s:
            v = s.get(Volume, volume_id)
            if v is None or (v.project_id != ctx.project_id and not ctx.is_admin):
                raise exceptions.NotFound(f"Volume {volume_id} could not be found.")
            if v.status != "available" and not (force and v.status == "in-use"):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} status must be available, but "
                                            f"current status is: {v.status}.")
            self.quotas.check(s, v.project_id, {"snapshots": 1, "gigabytes": v.size},
                              self.quotas.type_name(s, v.volume_type_id))
            sn = Snapshot(id=types.new_uuid(), project_id=v.project_id, user_id=ctx.user_id, volume_id=v.id,
                          name=name, description=description, size=v.size, status="creating", host=v.host)
            s.add(sn)
            s.flush()
            self._replace_metadata(s, sn.id, metadata or {})
            created = _dict(s, sn)
            host = v.host
        assert host is not None
        self.manager.create_snapshot(ctx, host, created["id"])
        return created

    def update(self, ctx: RequestContext, snapshot_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            sn = self._row(s, ctx, snapshot_id)
            for field in ("name", "description"):
                if field in changes:
                    setattr(sn, field, changes[field])
            sn.updated_at = types.utcnow()
            return _dict(s, sn)

    def reset_status(self, ctx: RequestContext, snapshot_id: str, status: str) -> None:
        """An admin's repair (``os-reset_status``): set the status without touching the storage."""
        with self.db.writer() as s:
            sn = self._row(s, ctx, snapshot_id)
            sn.status, sn.updated_at = status, types.utcnow()

    def update_status(self, ctx: RequestContext, snapshot_id: str, status: str, progress: str | None) -> None:
        """Cinder's ``os-update_snapshot_status`` (what a driver reports): from creating to creating, available
        or error; from deleting to deleting or error_deleting; anything else is a 400."""
        with self.db.writer() as s:
            sn = self._row(s, ctx, snapshot_id)
            allowed = UPDATABLE_STATUS.get(sn.status, ())
            if status not in allowed:
                raise exceptions.BadRequest(f"Invalid snapshot: a snapshot that is {sn.status} cannot be updated to "
                                            f"{status}" + (f" (only to {', '.join(allowed)})." if allowed else "."))
            sn.status, sn.updated_at = status, types.utcnow()
            if progress is not None:
                sn.progress = progress

    def delete(self, ctx: RequestContext, snapshot_id: str, force: bool = False) -> None:
        """202, status deleting; 400 unless available or error (any status with ``force``, an admin's
        ``os-force_delete``)."""
        with self.db.writer() as s:
            sn = self._row(s, ctx, snapshot_id)
            if not force and sn.status not in ("available", "error"):
                raise exceptions.BadRequest(f"Invalid snapshot: Snapshot status must be available or error, but "
                                            f"it is {sn.status}.")
            if sn.host is None or (sn.status == "error" and sn.provider_location is None):
                s.delete(sn)
                return
            sn.status, sn.updated_at = "deleting", types.utcnow()
            host = sn.host
        self.manager.delete_snapshot(ctx, host, snapshot_id)

    # -- metadata (Cinder's /snapshots/{id}/metadata) ---------------------------------------------------

    @staticmethod
    def _replace_metadata(s: Any, snapshot_id: str, items: dict[str, str]) -> None:
        if len(items) > MAX_METADATA:
            raise exceptions.RequestEntityTooLarge(f"Maximum number of metadata items ({MAX_METADATA}) exceeded.")
        s.execute(sa.delete(SnapshotMetadata).where(SnapshotMetadata.snapshot_id == snapshot_id))
        for key, value in items.items():
            s.add(SnapshotMetadata(snapshot_id=snapshot_id, key=key, value=value))
        s.flush()

    def metadata(self, ctx: RequestContext, snapshot_id: str) -> dict[str, str]:
        with self.db.reader() as s:
            return _metadata(s, [self._row(s, ctx, snapshot_id).id])[snapshot_id]

    def set_metadata(self, ctx: RequestContext, snapshot_id: str, items: dict[str, str],
                     replace: bool) -> dict[str, str]:
        """Merge ``items`` into the metadata (POST, or one item's PUT), or make them the whole metadata (PUT)."""
        with self.db.writer() as s:
            sn = self._row(s, ctx, snapshot_id)
            merged = dict(items) if replace else {**_metadata(s, [sn.id])[sn.id], **items}
            self._replace_metadata(s, sn.id, merged)
            sn.updated_at = types.utcnow()
            return merged

    def delete_metadata_item(self, ctx: RequestContext, snapshot_id: str, key: str) -> None:
        """Remove one item; 404 when the snapshot has no such key."""
        with self.db.writer() as s:
            sn = self._row(s, ctx, snapshot_id)
            row = s.get(SnapshotMetadata, (sn.id, key))
            if row is None:
                raise exceptions.NotFound(f"Metadata item was not found: {key}.")
            s.delete(row)
            sn.updated_at = types.utcnow()
