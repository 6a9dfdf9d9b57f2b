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
from nubis.volume.db.models import Snapshot, Volume
from nubis.volume.manager.rpcapi import VolumeManagerAPI

# os-update_snapshot_status: the statuses a snapshot may be moved to from its current one (Cinder's map).
UPDATABLE_STATUS = {"creating": ("creating", "available", "error"), "deleting": ("deleting", "error_deleting")}


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
            return records.snapshot_to_dict(self._row(s, ctx, snapshot_id))

    def list(self, ctx: RequestContext, query: listing.ListQuery) -> tuple[list[dict[str, Any]], bool]:
        with self.db.reader() as s:
            found = listing.page(s, Snapshot, query, ctx.require_project_id(), self.conf.volume.osapi_max_limit)
            return [records.snapshot_to_dict(sn) for sn in found.rows], found.more

    def create(self, ctx: RequestContext, volume_id: str, name: str | None, description: str | None,
               force: bool) -> dict[str, Any]:
        """Snapshot an available volume (an in-use one with ``force``): 202, status creating.

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
            self.quotas.check(s, v.project_id, {"snapshots": 1, "gigabytes": v.size})
            sn = Snapshot(id=types.new_uuid(), project_id=v.project_id, user_id=ctx.user_id, volume_id=v.id,
                          name=name, description=description, size=v.size, status="creating", host=v.host)
            s.add(sn)
            s.flush()
            created = records.snapshot_to_dict(sn)
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
            return records.snapshot_to_dict(sn)

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
