"""Backups of volumes (Cinder's backup API): recorded here, made, restored and removed by the storage host's
manager in its backup store (``[volume] backup_dir``).

Create: the volume (or its snapshot) goes ``backing-up`` and the backup ``creating`` in one transaction that
counts the ``backups`` and ``backup_gigabytes`` quotas under the project's lock; the manager copies the data and
puts the source back to the status it had. Restore: the backup goes ``restoring`` and the target volume
(a new one on the backup's host, or an ``available`` one of at least the backup's size)
``restoring-backup``; the manager writes the data and ends both ``available`` (``error_restoring`` for the
volume on failure). Backups are independent of their volume: it may be deleted while they stay.

Incremental backups follow Cinder's rules (400 without an available full backup; ``is_incremental``,
``has_dependent_backups``; a backup with dependents is not deleted, not even forced: its dependents' data are
overlays of its own) and store only what changed since their parent.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.core import hosts, listing
from nubis.volume.core.quotas import QuotaStore
from nubis.volume.core.types import TypeStore
from nubis.volume.db.models import Backup, Snapshot, Volume, VolumeService
from nubis.volume.manager.rpcapi import VolumeManagerAPI

# What the export record names as the backup service: Cinder's POSIX (file system) driver is the one this store
# is like, and clients (Tempest) expect a name under cinder.backup.drivers.
SERVICE = "cinder.backup.drivers.posix"
RESET_STATUSES = ("available", "error")
# The fields an export record carries (and an import takes back).
_RECORD_FIELDS = ("id", "project_id", "user_id", "volume_id", "snapshot_id", "parent_id", "name", "description",
                  "container", "availability_zone", "size", "object_count", "host", "provider_location",
                  "volume_meta", "metadata")


def _time(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class BackupStore:
    """Backups of a project as dicts (``to_dict``)."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, quotas: QuotaStore, volume_types: TypeStore,
                 manager: VolumeManagerAPI) -> None:
        self.conf = conf
        self.db = db
        self.quotas = quotas
        self.types = volume_types
        self.manager = manager

    # -- reading -------------------------------------------------------------

    @staticmethod
    def to_dict(s: Any, b: Backup) -> dict[str, Any]:
        """The backup as the views render it (with ``has_dependent_backups`` counted from its children)."""
        dependents = s.scalar(sa.select(sa.func.count()).select_from(Backup).where(Backup.parent_id == b.id))
        return {"id": b.id, "project_id": b.project_id, "user_id": b.user_id, "volume_id": b.volume_id,
                "snapshot_id": b.snapshot_id, "parent_id": b.parent_id, "name": b.name,
                "description": b.description, "container": b.container, "availability_zone": b.availability_zone,
                "size": b.size, "status": b.status, "fail_reason": b.fail_reason, "object_count": b.object_count,
                "is_incremental": b.parent_id is not None, "has_dependent_backups": bool(dependents),
                "metadata": dict(b.metadata_items or {}), "data_timestamp": b.data_timestamp,
                "created_at": b.created_at, "updated_at": b.updated_at}

    @staticmethod
    def _row(s: Any, ctx: RequestContext, backup_id: str, lock: bool = False) -> Backup:
        """The backup, if the caller's project owns it or the caller is an admin; 404 otherwise."""
        b = s.get(Backup, backup_id, with_for_update=lock)
        if b is None or (b.project_id != ctx.project_id and not ctx.is_admin):
            raise exceptions.NotFound(f"Backup {backup_id} could not be found.")
        return b  # type: ignore[no-any-return]

    def owner(self, backup_id: str) -> str | None:
        """The project owning ``backup_id`` (for the policy target), None if there is no such backup."""
        with self.db.reader() as s:
            b = s.get(Backup, backup_id)
            return b.project_id if b is not None else None

    def get(self, ctx: RequestContext, backup_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return self.to_dict(s, self._row(s, ctx, backup_id))

    def list(self, ctx: RequestContext, query: listing.ListQuery) -> tuple[list[dict[str, Any]], bool]:
        """One page of backups and whether more follow."""
        with self.db.reader() as s:
            found = listing.page(s, Backup, query, ctx.require_project_id(), self.conf.volume.osapi_max_limit)
            return [self.to_dict(s, b) for b in found.rows], found.more

    # -- creating ------------------------------------------------------------

    def create(self, ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
        """A new backup (202: status creating). ``spec``: volume_id, name, description, container, incremental,
        force, snapshot_id, metadata (validated by the API).

        404 for a volume or snapshot the caller cannot see; 400 for a source in the wrong state, an in-use volume
        without ``force``, a snapshot of another volume, an incremental backup without an available full one;
        413 over the ``backups`` / ``backup_gigabytes`` quota.
        """
        volume_id = spec["volume_id"]
        self.manager.check_can_send("create_backup")  # before any state changes (409 while older hosts run)
        # As Cinder's, the backup is the caller's project's (an admin's backup of another project's volume is
        # the admin's), counted against that project's quotas.
        project = ctx.require_project_id()
        self.quotas.ensure_lock(project)
        with self.db.writer() as s:
            v = s.get(Volume, volume_id, with_for_update=True)
            if v is None or (v.project_id != ctx.project_id and not ctx.is_admin):
                raise exceptions.NotFound(f"Volume {volume_id} could not be found.")
            snap = None
            if spec.get("snapshot_id"):
                snap = s.get(Snapshot, spec["snapshot_id"], with_for_update=True)
                if snap is None or (snap.project_id != ctx.project_id and not ctx.is_admin):
                    raise exceptions.NotFound(f"Snapshot {spec['snapshot_id']} could not be found.")
                if snap.volume_id != volume_id:
                    raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} does not match with "
                                                f"snapshot.volume_id {snap.volume_id}.")
                if snap.status != "available":
                    raise exceptions.BadRequest(f"Invalid snapshot: Snapshot to be backed up must be available, "
                                                f"but the current status is \"{snap.status}\".")
            elif v.status not in ("available", "in-use"):
                raise exceptions.BadRequest(f"Invalid volume: Volume to be backed up must be available or in-use, "
                                            f"but the current status is \"{v.status}\".")
            elif v.status == "in-use" and not spec.get("force"):
                raise exceptions.BadRequest("Invalid volume: Backing up an in-use volume must use the force flag.")
            if v.host is None or v.provider_location is None:
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} has no storage to back up.")
            self.quotas.check(s, project, {"backups": 1, "backup_gigabytes": v.size})
            parent_id = None
            if spec.get("incremental"):
                parent_id = self._parent(s, project, v, snap)
            meta = {"metadata": v.metadata_dict, "bootable": v.bootable, "image_metadata": v.image_metadata}
            b = Backup(id=types.new_uuid(), project_id=project, user_id=ctx.user_id or "", volume_id=v.id,
                       snapshot_id=snap.id if snap is not None else None, parent_id=parent_id,
                       name=spec.get("name"), description=spec.get("description"), container=spec.get("container"),
                       availability_zone=v.availability_zone, size=v.size, status="creating", object_count=0,
                       host=v.host, service=SERVICE, volume_meta=meta, metadata_items=spec.get("metadata") or {})
            now = types.utcnow()
            b.created_at = b.updated_at = now
            if snap is not None:
                b.source_status, snap.status, b.data_timestamp = snap.status, "backing-up", snap.created_at
            else:
                b.source_status, v.status, b.data_timestamp = v.status, "backing-up", now
            v.updated_at = now
            s.add(b)
            s.flush()
            created = self.to_dict(s, b)
            host = v.host
        self.manager.create_backup(ctx, host, created["id"])
        return created

    @staticmethod
    def _parent(s: Any, project: str, v: Volume, snap: Snapshot | None) -> str:
        """The newest available backup of the volume's data (before the snapshot, when backing one up)."""
        candidates = sa.select(Backup).where(Backup.volume_id == v.id, Backup.project_id == project,
                                             Backup.status == "available", Backup.host == v.host)
        if snap is not None:
            candidates = candidates.where(Backup.data_timestamp < snap.created_at)
        latest = s.scalars(candidates.order_by(Backup.data_timestamp.desc(), Backup.created_at.desc())).first()
        if latest is None:
            raise exceptions.BadRequest("Invalid backup: No backups available to do an incremental backup.")
        return latest.id  # type: ignore[no-any-return]

    # -- changing ------------------------------------------------------------

    def update(self, ctx: RequestContext, backup_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Rename, describe, or (3.43) replace the metadata of a backup."""
        with self.db.writer() as s:
            b = self._row(s, ctx, backup_id)
            for field in ("name", "description"):
                if field in changes:
                    setattr(b, field, changes[field])
            if "metadata" in changes:
                b.metadata_items = dict(changes["metadata"] or {})
            b.updated_at = types.utcnow()
            return self.to_dict(s, b)

    def delete(self, ctx: RequestContext, backup_id: str, force: bool = False) -> None:
        """202, status deleting; 400 unless available or error (any status but deleting with ``force``), or
        when incremental backups depend on it."""
        self.manager.check_can_send("delete_backup")
        with self.db.writer() as s:
            b = self._row(s, ctx, backup_id, lock=True)
            if force:
                if b.status == "deleting":
                    raise exceptions.BadRequest("Invalid backup: the backup is already being deleted.")
            elif b.status not in ("available", "error"):
                raise exceptions.BadRequest(f"Invalid backup: Backup status must be available or error (it is "
                                            f"{b.status}).")
            if s.scalar(sa.select(sa.func.count()).select_from(Backup).where(Backup.parent_id == b.id)):
                raise exceptions.BadRequest("Invalid backup: Incremental backups exist for this backup.")
            if force and b.status in ("creating", "restoring"):
                self._settle_sources(s, b)
            if b.host is None or b.provider_location is None or not self._host_known(s, b.host):
                s.delete(b)
                return
            b.status, b.updated_at = "deleting", types.utcnow()
            host = b.host
        self.manager.delete_backup(ctx, host, backup_id)

    @staticmethod
    def _host_known(s: Any, host: str) -> bool:
        return s.get(VolumeService, host) is not None

    @staticmethod
    def _settle_sources(s: Any, b: Backup) -> None:
        """A forced delete of a backup in the middle of its work: the volume (or snapshot) it was reading or
        writing is given its status back (a half-written restore target is marked error_restoring)."""
        if b.status == "creating":
            src = s.get(Snapshot, b.snapshot_id) if b.snapshot_id else s.get(Volume, b.volume_id)
            if src is not None and src.status == "backing-up":
                src.status = b.source_status or "available"
        elif b.restore_volume_id:
            target = s.get(Volume, b.restore_volume_id)
            if target is not None and target.status == "restoring-backup":
                target.status = "error_restoring"

    def reset_status(self, ctx: RequestContext, backup_id: str, status: str) -> None:
        """An admin's repair: set the status (available or error) without touching the data."""
        if status not in RESET_STATUSES:
            raise exceptions.BadRequest(f"Invalid backup: the status may be reset to {' or '.join(RESET_STATUSES)}, "
                                        f"not {status[:50]}.")
        with self.db.writer() as s:
            b = self._row(s, ctx, backup_id, lock=True)
            if status == "available" and b.provider_location is None:
                raise exceptions.BadRequest("Invalid backup: a backup without data cannot be made available.")
            b.status, b.updated_at = status, types.utcnow()

    # -- restoring -----------------------------------------------------------

    def restore(self, ctx: RequestContext, backup_id: str, volume_id: str | None,
                name: str | None) -> dict[str, Any]:
        """Write the backup to a new volume (on the backup's host) or to ``volume_id`` (available, at least the
        backup's size, on the same storage host): 202 with ``backup_id``, ``volume_id``, ``volume_name``.

        400 when the backup is not available or the volume cannot take it; 413 over the new volume's quota.
        """
        self.manager.check_can_send("restore_backup")
        self.quotas.ensure_lock(ctx.require_project_id())
        with self.db.writer() as s:
            b = self._row(s, ctx, backup_id, lock=True)
            if b.status != "available" or b.provider_location is None:
                raise exceptions.BadRequest(f"Invalid backup: Backup status must be available (it is {b.status}).")
            v: Volume
            if volume_id is None:
                v = self._new_volume(s, ctx, b, name)
            else:
                found = s.get(Volume, volume_id, with_for_update=True)
                if found is None or (found.project_id != ctx.project_id and not ctx.is_admin):
                    raise exceptions.NotFound(f"Volume {volume_id} could not be found.")
                v = found
                if v.status != "available":
                    raise exceptions.BadRequest(f"Invalid volume: Volume to be restored to must be available (it "
                                                f"is {v.status}).")
                if b.size > v.size:
                    raise exceptions.BadRequest(f"Invalid volume: volume size {v.size} is too small to restore "
                                                f"backup of size {b.size}.")
                if v.host != b.host:
                    raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} is on storage host {v.host}; "
                                                f"backup {backup_id} is stored on {b.host} and restores there.")
                v.status, v.updated_at = "restoring-backup", types.utcnow()
            b.status, b.restore_volume_id, b.updated_at = "restoring", v.id, types.utcnow()
            s.flush()
            answer = {"backup_id": b.id, "volume_id": v.id, "volume_name": v.name or ""}
            host = b.host
        assert host is not None
        self.manager.restore_backup(ctx, host, backup_id, answer["volume_id"])
        return answer

    def _new_volume(self, s: Any, ctx: RequestContext, b: Backup, name: str | None) -> Volume:
        """The volume a restore without ``volume_id`` makes: the backup's size and zone, on its host (as
        Cinder: ``restore_backup_<id>`` unless named), counted against the caller's volume quotas."""
        project = ctx.require_project_id()
        vtype = self.types.default(s)
        self.quotas.check(s, project, {"volumes": 1, "gigabytes": b.size}, vtype.name)
        service = s.get(VolumeService, b.host, with_for_update=True) if b.host else None
        if service is None or not hosts.alive(self.conf, service):
            raise exceptions.ServiceUnavailable(f"The storage host {b.host} that keeps backup {b.id} is not up.")
        free = service.total_capacity_gb * service.max_over_subscription_ratio - hosts.allocated_gb(s, service.host)
        if free < b.size:
            raise exceptions.BadRequest(f"Invalid volume: storage host {service.host} has no room for a new "
                                        f"{b.size} GiB volume to restore backup {b.id} into ({int(free)} GiB free).")
        v = Volume(id=types.new_uuid(), project_id=project, user_id=ctx.user_id or "",
                   name=name if name is not None else f"restore_backup_{b.id}",
                   description="auto-created_from_restore_from_backup", size=b.size, status="restoring-backup",
                   availability_zone=b.availability_zone or self.conf.volume.storage_availability_zone,
                   volume_type_id=vtype.id, host=b.host, multiattach=False, bootable=False)
        s.add(v)
        return v

    # -- export and import ---------------------------------------------------

    def export_record(self, ctx: RequestContext, backup_id: str) -> dict[str, str]:
        """Cinder's ``backup-record``: the service name and the backup's record, base64 JSON (400 unless
        available)."""
        with self.db.reader() as s:
            b = self._row(s, ctx, backup_id)
            if b.status != "available":
                raise exceptions.BadRequest(f"Invalid backup: Backup status must be available and not "
                                            f"{b.status}.")
            record = {f: getattr(b, f) for f in _RECORD_FIELDS if f != "metadata"}
            record["metadata"] = dict(b.metadata_items or {})
            record["data_timestamp"] = _time(b.data_timestamp)
            service = b.service
        url = base64.b64encode(json.dumps(record).encode()).decode()
        return {"backup_service": service, "backup_url": url}

    def import_record(self, ctx: RequestContext, backup_service: str, backup_url: str) -> dict[str, Any]:
        """A backup record made by ``export_record`` (an admin's: the data stays where the record says; the
        backup belongs to the caller's project). 400 for a record this cloud cannot read or whose data is not
        in a backup store of one of its storage hosts; 409 when the id exists."""
        if backup_service != SERVICE:
            raise exceptions.BadRequest(f"Invalid backup: backup service {backup_service[:100]} is not {SERVICE}.")
        try:
            record = json.loads(base64.b64decode(backup_url.encode(), validate=True))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise exceptions.BadRequest("Invalid backup: the backup_url is not a base64 JSON backup record.") from None
        if not isinstance(record, dict) or not all(isinstance(record.get(k), str) and record[k]
                                                   for k in ("id", "volume_id", "host", "provider_location")):
            raise exceptions.BadRequest("Invalid backup: the record names no id, volume_id, host and "
                                        "provider_location.")
        size = record.get("size")
        if not isinstance(size, int) or size < 1:
            raise exceptions.BadRequest("Invalid backup: the record's size is not a positive integer.")
        project = ctx.require_project_id()
        self.quotas.ensure_lock(project)
        with self.db.writer() as s:
            if not self._host_known(s, record["host"]):
                raise exceptions.BadRequest(f"Invalid backup: storage host {str(record['host'])[:100]} is not "
                                            f"part of this cloud.")
            if s.get(Backup, record["id"]) is not None:
                raise exceptions.Conflict(f"Backup {str(record['id'])[:36]} already exists.")
            self.quotas.check(s, project, {"backups": 1, "backup_gigabytes": size})

            def text(key: str, limit: int = 255) -> str | None:
                value = record.get(key)
                return value[:limit] if isinstance(value, str) else None

            stamp = text("data_timestamp")
            # An incremental backup's data is an overlay of its parent's: it stays a dependent of that parent.
            parent = text("parent_id", 36)
            b = Backup(id=record["id"][:36], project_id=project, user_id=ctx.user_id or "",
                       volume_id=record["volume_id"][:36], snapshot_id=text("snapshot_id", 36),
                       parent_id=parent if parent and s.get(Backup, parent) is not None else None,
                       name=text("name"), description=text("description"), container=text("container"),
                       availability_zone=text("availability_zone"), size=size, status="available",
                       object_count=int(record.get("object_count") or 1), host=record["host"][:255], service=SERVICE,
                       provider_location=record["provider_location"][:1024],
                       volume_meta=record.get("volume_meta") if isinstance(record.get("volume_meta"), dict) else None,
                       metadata_items={str(k)[:255]: str(v)[:255] for k, v in (record.get("metadata") or {}).items()}
                       if isinstance(record.get("metadata"), dict) else {},
                       data_timestamp=_parse_time(stamp))
            s.add(b)
            s.flush()
            return self.to_dict(s, b)


def _parse_time(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
