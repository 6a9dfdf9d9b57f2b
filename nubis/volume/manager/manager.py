"""The volume manager of one storage host: does the storage work the API asked for and records the outcome.

Like Cinder's volume service it reads and writes the volume database itself (the rows of its own host only).
Every operation ends in a final status: ``available``, or ``error`` / ``error_deleting`` / ``error_extending``
with ``error_message`` saying why; a failed create leaves no file behind. At start, work interrupted by a
stop or crash is settled: creates become ``error`` (never stuck ``creating``), deletes are done again, and the
exports are made to match the attachments (attached volumes exported again, any other export removed).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common.clients.compute import ComputeClient
from nubis.common.clients.image import ImageClient
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.common.periodic import PeriodicTasks
from nubis.volume.conf import backup_dir, volumes_dir
from nubis.volume.core.groups import settle_group, settle_group_snapshot
from nubis.volume.core.qos import connection_specs
from nubis.volume.db.models import (
    Backup,
    QosSpecs,
    Snapshot,
    Volume,
    VolumeAttachment,
    VolumeMetadata,
    VolumeService,
    VolumeType,
)
from nubis.volume.image_formats import IMAGE_FORMATS
from nubis.volume.manager.backends.base import BackendError, VolumeBackend
from nubis.volume.manager.backup_store import FileBackupStore
from nubis.volume.notifications import VolumeNotifier

T = TypeVar("T")

LOG = logging.getLogger(__name__)
INTERRUPTED = "The volume manager stopped before this operation finished."


def _short(message: str) -> str:
    return message[:1000]


def _resting_status(v: Volume) -> str:
    """The status a volume goes back to once an upload to an image or an extend ends: in-use when attached."""
    return "in-use" if v.attach_status == "attached" else "available"


class VolumeManager:
    """One host's manager. ``start()`` reports the host and settles interrupted work; ``stop()`` ends that."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, backend: VolumeBackend, host: str,
                 images: ImageClient | None = None, notifier: VolumeNotifier | None = None,
                 backup_store: FileBackupStore | None = None, compute: ComputeClient | None = None) -> None:
        self.conf = conf
        self.compute = compute  # the compute API (service credentials), told about extended attached volumes
        self._backup_store = backup_store
        self.images = images  # the image service (service credentials), or None
        self.notifier = notifier or VolumeNotifier(None)
        self.db = db
        self.backend = backend
        self.host = host
        self._periodic = PeriodicTasks(f"volume-periodic-{host}")

    @property
    def backups(self) -> FileBackupStore:
        """This host's backup store (``[volume] backup_dir``), made on first use."""
        if self._backup_store is None:
            self._backup_store = FileBackupStore(backup_dir(self.conf),
                                                 self.conf.volume.backup_compression_algorithm)
        return self._backup_store

    # -- lifecycle -------------------------------------------------------------

    def report(self) -> None:
        """Write this host's heartbeat: zone, backend, capacity."""
        with self.db.writer() as s:
            row = s.get(VolumeService, self.host)
            if row is None:
                row = VolumeService(host=self.host, disabled=False)
                s.add(row)
            row.availability_zone = self.conf.volume.storage_availability_zone
            row.backend = self.backend.name
            row.total_capacity_gb = self.backend.capacity_gb()
            row.max_over_subscription_ratio = self.conf.volume.max_over_subscription_ratio
            row.updated_at = types.utcnow()

    def recover(self) -> None:
        """Settle what a previous run of this host left half done."""
        with self.db.writer() as s:
            groups: set[str] = set()
            group_snapshots: set[str] = set()
            for v in s.scalars(sa.select(Volume).where(Volume.host == self.host,
                                                       Volume.status.in_(("creating", "extending")))):
                if v.group_id is not None:
                    groups.add(v.group_id)
                LOG.warning("Volume %s was %s when the manager stopped: marking it error", v.id, v.status)
                if v.status == "creating" and v.provider_location is None:
                    self._cleanup_partial(v.id)
                v.status = "error" if v.status == "creating" else "error_extending"
                v.error_message = INTERRUPTED
            for sn in s.scalars(sa.select(Snapshot).where(Snapshot.host == self.host,
                                                          Snapshot.status == "creating")):
                sn.status, sn.error_message = "error", INTERRUPTED
                if sn.group_snapshot_id is not None:
                    group_snapshots.add(sn.group_snapshot_id)
            s.flush()
            for group_id in sorted(groups):
                settle_group(s, group_id)
            for group_snapshot_id in sorted(group_snapshots):
                settle_group_snapshot(s, group_snapshot_id)
            for v in s.scalars(sa.select(Volume).where(Volume.host == self.host, Volume.status == "uploading")):
                # Cinder's init_host does the same: the upload is lost, the volume is usable again.
                LOG.warning("Volume %s was uploading to an image when the manager stopped", v.id)
                v.status = _resting_status(v)
            deleting = list(s.scalars(sa.select(Volume.id).where(Volume.host == self.host,
                                                                  Volume.status == "deleting")))
            snaps = list(s.scalars(sa.select(Snapshot.id).where(Snapshot.host == self.host,
                                                                 Snapshot.status == "deleting")))
        for snapshot_id in snaps:
            self.delete_snapshot(snapshot_id)
        for volume_id in deleting:
            self.delete_volume(volume_id)
        self._recover_backups()
        self.backend.reconcile_exports(self._connected())

    def _recover_backups(self) -> None:
        """Backups ``creating`` → ``error`` (their source gets its status back, a partial file is removed);
        ``restoring`` → the backup ``available`` and its target volume ``error_restoring``; deletes are redone."""
        with self.db.writer() as s:
            for b in s.scalars(sa.select(Backup).where(Backup.host == self.host,
                                                       Backup.status.in_(("creating", "restoring")))):
                LOG.warning("Backup %s was %s when the manager stopped", b.id, b.status)
                if b.status == "creating":
                    self._give_back_source(s, b)
                    if b.provider_location is None:
                        self._cleanup_backup(b.id)
                    b.status, b.fail_reason = "error", INTERRUPTED
                else:
                    target = s.get(Volume, b.restore_volume_id) if b.restore_volume_id else None
                    if target is not None and target.status == "restoring-backup":
                        target.status, target.error_message = "error_restoring", INTERRUPTED
                    b.status = "available"
                b.updated_at = types.utcnow()
            deleting = list(s.scalars(sa.select(Backup.id).where(Backup.host == self.host,
                                                                  Backup.status == "deleting")))
        for backup_id in deleting:
            self.delete_backup(backup_id)

    def _cleanup_backup(self, backup_id: str) -> None:
        try:
            self.backups.cleanup(backup_id)
        except BackendError as e:
            LOG.warning("Could not clean up after the interrupted backup %s: %s", backup_id, e)

    @staticmethod
    def _give_back_source(s: Any, b: Backup) -> None:
        """The volume (or snapshot) a backup read goes back to the status it had before (``backing-up``)."""
        src: Volume | Snapshot | None = s.get(Snapshot, b.snapshot_id) if b.snapshot_id else s.get(Volume, b.volume_id)
        if src is not None and src.status == "backing-up":
            src.status, src.updated_at = b.source_status or "available", types.utcnow()

    def _connected(self) -> list[tuple[str, str]]:
        """(volume id, location) of this host's volumes a compute is connecting or connected to."""
        with self.db.reader() as s:
            return [(v_id, str(loc)) for v_id, loc in s.execute(
                sa.select(Volume.id, Volume.provider_location).distinct()
                .join(VolumeAttachment, VolumeAttachment.volume_id == Volume.id)
                .where(Volume.host == self.host, Volume.provider_location.is_not(None),
                       VolumeAttachment.attach_status.in_(("attaching", "attached"))))]

    def _cleanup_partial(self, volume_id: str) -> None:
        """A create interrupted before it recorded its location may have left storage behind: remove it."""
        try:
            self.backend.cleanup(volume_id)
        except BackendError as e:
            LOG.warning("Could not clean up after the interrupted create of volume %s: %s", volume_id, e)

    def start(self) -> None:
        self.report()
        self.recover()
        # A failed heartbeat is logged and sent again at the next interval.
        self._periodic.add("volume-heartbeat", self.conf.volume.report_interval, self.report).start()

    def stop(self) -> None:
        self._periodic.stop(timeout=5)

    # -- operations ------------------------------------------------------------

    def _volume(self, volume_id: str, expected: str) -> Volume | None:
        with self.db.reader() as s:
            v = s.get(Volume, volume_id)
            if v is None or v.host != self.host or v.status != expected:
                LOG.warning("Volume %s is not %s on %s: nothing to do", volume_id, expected, self.host)
                return None
            s.expunge(v)
            return v

    def _finish(self, volume_id: str, **values: object) -> Volume | None:
        """Record the outcome; returns the volume as recorded (None if it is gone)."""
        with self.db.writer() as s:
            v = s.get(Volume, volume_id)
            if v is not None:
                for key, value in values.items():
                    setattr(v, key, value)
                v.updated_at = types.utcnow()
                s.flush()
                s.expunge(v)
            return v

    def _run(self, what: str, work: Callable[[], T]) -> tuple[T | None, str | None]:
        """``work()``'s result, or the error message (BackendError's own, or a generic one logged)."""
        try:
            return work(), None
        except BackendError as e:
            LOG.error("%s failed: %s", what, e)
            return None, _short(str(e))
        except Exception as e:  # noqa: BLE001 - any failure must end in an error status, never a stuck one
            LOG.exception("%s failed", what)
            return None, _short(f"{what} failed unexpectedly: {type(e).__name__}.")

    def create_volume(self, volume_id: str) -> None:
        v = self._volume(volume_id, "creating")
        if v is None:
            return
        if v.snapshot_id is not None:
            with self.db.reader() as s:
                snap = s.get(Snapshot, v.snapshot_id)
                location = snap.provider_location if snap is not None else None
            if location is None:
                self._finish(volume_id, status="error", error_message=f"Snapshot {v.snapshot_id} has no data.")
                return
            made, error = self._run(f"Creating volume {volume_id} from snapshot {v.snapshot_id}",
                                    functools.partial(self.backend.create_from_snapshot, volume_id, v.size, location))
        elif v.image_id is not None:
            made, error = self._run(f"Creating volume {volume_id} from image {v.image_id}",
                                    functools.partial(self._from_image, volume_id, v.size, v.image_id,
                                                      (v.image_metadata or {}).get("disk_format", "raw")))
        elif v.source_volid is not None:
            with self.db.reader() as s:
                source = s.get(Volume, v.source_volid)
                location = source.provider_location if source is not None else None
            if location is None:
                self._finish(volume_id, status="error", error_message=f"Volume {v.source_volid} has no data.")
                return
            made, error = self._run(f"Cloning volume {v.source_volid} into {volume_id}",
                                    lambda: self.backend.clone(volume_id, v.size, location))
        else:
            made, error = self._run(f"Creating volume {volume_id}", lambda: self.backend.create(volume_id, v.size))
        done = self._finish_create(volume_id, made, error)
        if done is not None:
            LOG.info("Volume %s created (%d GiB) at %s", volume_id, v.size, made)
            self.notifier.volume("create", done)

    def _finish_create(self, volume_id: str, made: str | None, error: str | None) -> Volume | None:
        """Record a create's outcome unless the volume changed meanwhile: an admin's force delete (or reset)
        during the create keeps its status, and the storage made is recorded for that delete to remove; storage
        made for a volume already gone is removed here. Returns the volume if it is now available."""
        with self.db.writer() as s:
            v = s.get(Volume, volume_id)
            if v is not None and v.status == "creating":
                if error is not None:
                    v.status, v.error_message = "error", error
                else:
                    v.status, v.provider_location, v.error_message = "available", made, None
                v.updated_at = types.utcnow()
                s.flush()
                if v.group_id is not None:
                    settle_group(s, v.group_id)  # a group made from a source follows its volumes
                s.expunge(v)
                return v if error is None else None
            if v is not None and made is not None:
                LOG.info("Volume %s became %s while it was created: keeping that status", volume_id, v.status)
                v.provider_location = made
                return None
        if made is not None:
            LOG.info("Volume %s was deleted while it was created: removing its storage", volume_id)
            self._run(f"Removing the storage of deleted volume {volume_id}",
                      functools.partial(self.backend.delete, made))
        return None

    def _from_image(self, volume_id: str, size: int, image_id: str, disk_format: str) -> str:
        """Download the image next to the volumes (never held in memory), then let the backend convert it."""
        if self.images is None:
            raise BackendError("This storage host has no image service configured to read images from.")
        qemu_format = IMAGE_FORMATS.get(disk_format)
        if qemu_format is None:
            raise BackendError(f"Images of disk_format {disk_format} cannot be written to volumes.")
        fd, tmp = tempfile.mkstemp(prefix=f".image-{volume_id}-", dir=volumes_dir(self.conf))
        try:
            with os.fdopen(fd, "wb") as out:
                resp = self.images.download(image_id)
                if resp.status_code != 200:
                    raise BackendError(f"Downloading image {image_id} failed: the image service answered "
                                       f"{resp.status_code}.")
                for chunk in resp.iter_content(1024 * 1024):
                    out.write(chunk)
            return self.backend.create_from_image(volume_id, size, tmp, qemu_format)
        finally:
            os.unlink(tmp)

    def upload_image(self, volume_id: str, image_id: str, disk_format: str) -> None:
        """Write the volume's data as ``disk_format`` to image ``image_id`` (created queued by the API, as the
        caller), with the service credentials, as volumes from images download theirs; the volume goes back to
        available (in-use when attached). A failed upload deletes the image, as Cinder's does."""
        v = self._volume(volume_id, "uploading")
        if v is None:
            return
        _, error = self._run(f"Uploading volume {volume_id} to image {image_id}",
                             functools.partial(self._to_image, volume_id, v.provider_location, image_id, disk_format))
        if error is not None and self.images is not None:
            resp = self.images.delete(image_id)
            if resp.status_code not in (204, 404):
                LOG.warning("Could not delete image %s after its failed upload: %s", image_id, resp.status_code)
        with self.db.writer() as s:
            row = s.get(Volume, volume_id)
            if row is not None and row.status == "uploading":
                row.status, row.updated_at = _resting_status(row), types.utcnow()
        if error is None:
            LOG.info("Volume %s uploaded to image %s (%s)", volume_id, image_id, disk_format)

    def _to_image(self, volume_id: str, location: str | None, image_id: str, disk_format: str) -> None:
        """Convert the volume to a temporary file next to the volumes, then stream it to the image service."""
        if self.images is None:
            raise BackendError("This storage host has no image service configured to upload images to.")
        if location is None:
            raise BackendError(f"Volume {volume_id} has no data to upload.")
        qemu_format = IMAGE_FORMATS.get(disk_format)
        if qemu_format is None:
            raise BackendError(f"Volumes cannot be written as disk_format {disk_format}.")
        fd, tmp = tempfile.mkstemp(prefix=f".upload-{volume_id}-", dir=volumes_dir(self.conf))
        os.close(fd)
        try:
            self.backend.copy_to_image(location, tmp, qemu_format)

            def chunks() -> Iterator[bytes]:
                with open(tmp, "rb") as f:
                    while chunk := f.read(1024 * 1024):
                        yield chunk

            resp = self.images.upload(image_id, chunks())
            if resp.status_code != 204:
                raise BackendError(f"The image service refused the upload of image {image_id}: "
                                   f"{resp.status_code} {resp.text[:300]}")
        finally:
            with contextlib.suppress(FileNotFoundError):  # a failed convert removed it already
                os.unlink(tmp)

    def extend_volume(self, volume_id: str, new_size: int) -> None:
        v = self._volume(volume_id, "extending")
        if v is None:
            return
        assert v.provider_location is not None
        location = v.provider_location
        attached = v.attach_status == "attached"

        def grow() -> None:
            self.backend.extend(location, new_size)
            if attached:  # computes connected to the export: it presents the new size (once none is connected)
                self.backend.refresh_export(volume_id)

        _, error = self._run(f"Extending volume {volume_id}", grow)
        if error is not None:
            self._finish(volume_id, status="error_extending", error_message=error)
            return
        with self.db.writer() as s:  # in-use or available as the volume is now (a detach may have come meanwhile)
            done = s.get(Volume, volume_id)
            if done is not None:
                if done.status == "extending":
                    done.status = _resting_status(done)
                done.size, done.error_message, done.updated_at = new_size, None, types.utcnow()
                s.flush()
                s.expunge(done)
        if done is not None:
            self.notifier.volume("resize", done)
            if done.attach_status == "attached":
                self._volume_extended(volume_id)

    def _volume_extended(self, volume_id: str) -> None:
        """Tell compute the attached volume grew (``volume-extended`` for each server it is attached to, as
        Cinder's volume manager does); a failure is logged: the volume is extended either way."""
        with self.db.reader() as s:
            servers = sorted({str(u) for u in s.scalars(sa.select(VolumeAttachment.instance_uuid).where(
                VolumeAttachment.volume_id == volume_id, VolumeAttachment.attach_status == "attached",
                VolumeAttachment.instance_uuid.is_not(None)))})
        if not servers:
            return
        if self.compute is None:
            LOG.warning("Volume %s grew while attached to %s, but no compute service is configured to tell",
                        volume_id, ", ".join(servers))
            return
        try:
            resp = self.compute.volume_extended(volume_id, servers)
        except Exception as e:  # noqa: BLE001 - keystoneauth's connection and catalog errors: logged, not fatal
            LOG.warning("Could not tell compute that volume %s grew: %s", volume_id, e)
            return
        if resp.status_code not in (200, 207):
            LOG.warning("Compute refused the volume-extended events of volume %s: %s %s", volume_id,
                        resp.status_code, resp.text[:300])
        else:
            LOG.info("Told compute that volume %s grew (servers %s): %s", volume_id, ", ".join(servers),
                     [e.get("code") for e in resp.json().get("events", [])])

    # -- connections (exports for computes) --------------------------------------

    def initialize_connection(self, volume_id: str, attachment_id: str | None) -> dict[str, Any]:
        """Export the volume and return Cinder's ``connection_info``; with an ``attachment_id`` it is also
        recorded on that attachment (what ``GET /attachments/{id}`` shows). Its ``data.qos_specs`` are the
        front-end QoS specs of the volume's type (None when it has none), for the compute to apply.

        Raises BackendError when the volume has no storage here or the export fails.
        """
        with self.db.reader() as s:
            v = s.get(Volume, volume_id)
            if v is None or v.host != self.host or v.provider_location is None:
                raise BackendError(f"Volume {volume_id} has no storage on {self.host} to export.")
            location = v.provider_location
            vtype = s.get(VolumeType, v.volume_type_id)
            qos = s.get(QosSpecs, vtype.qos_specs_id) if vtype is not None and vtype.qos_specs_id else None
            qos_specs = connection_specs(qos.consumer, dict(qos.specs or {}), v.size) if qos is not None else None
        info = self.backend.export(volume_id, location)
        info = {**info, "data": {**info.get("data", {}), "qos_specs": qos_specs}}
        if attachment_id is not None:
            with self.db.writer() as s:
                a = s.get(VolumeAttachment, attachment_id)
                if a is None or a.attach_status == "detached":
                    # Deleted while the export was made: take the export down again unless others use it.
                    self.terminate_connection(volume_id)
                    raise BackendError(f"Attachment {attachment_id} was deleted while volume {volume_id} "
                                       f"was being exported.")
                a.connection_info, a.updated_at = info, types.utcnow()
        return {**info, "attachment_id": attachment_id} if attachment_id else info

    def terminate_connection(self, volume_id: str) -> None:
        """Remove the volume's export unless a compute still connects to it (another live attachment)."""
        with self.db.reader() as s:
            live = s.scalar(sa.select(sa.func.count()).select_from(VolumeAttachment).where(
                VolumeAttachment.volume_id == volume_id,
                VolumeAttachment.attach_status.in_(("attaching", "attached"))))
        if live:
            LOG.info("Volume %s keeps its export: %d attachment(s) still connect to it", volume_id, live)
            return
        self.backend.unexport(volume_id)

    def delete_volume(self, volume_id: str) -> None:
        v = self._volume(volume_id, "deleting")
        if v is None:
            return
        _, error = self._run(f"Removing the export of volume {volume_id}", lambda: self.backend.unexport(volume_id))
        if error is not None:
            self._finish(volume_id, status="error_deleting", error_message=error)
            return
        with self.db.reader() as s:
            snaps = list(s.scalars(sa.select(Snapshot).where(Snapshot.volume_id == volume_id)))
            s.expunge_all()
        for snap in snaps:  # a cascade delete: the snapshots go first
            snapshot_id, location = snap.id, snap.provider_location
            if location is not None:
                _, error = self._run(f"Deleting snapshot {snapshot_id}", functools.partial(self.backend.delete_snapshot, location))
                if error is not None:
                    self._finish(volume_id, status="error_deleting", error_message=error)
                    return
            with self.db.writer() as s:
                s.execute(sa.delete(Snapshot).where(Snapshot.id == snapshot_id))
            snap.status = "deleted"
            self.notifier.snapshot("delete", snap)
        if v.provider_location is not None:
            location = v.provider_location
            _, error = self._run(f"Deleting volume {volume_id}", lambda: self.backend.delete(location))
            if error is not None:
                self._finish(volume_id, status="error_deleting", error_message=error)
                return
        with self.db.writer() as s:
            row = s.get(Volume, volume_id)
            if row is not None:
                s.delete(row)
        LOG.info("Volume %s deleted", volume_id)
        v.status = "deleted"
        self.notifier.volume("delete", v)

    def create_snapshot(self, snapshot_id: str) -> None:
        with self.db.reader() as s:
            sn = s.get(Snapshot, snapshot_id)
            v = s.get(Volume, sn.volume_id) if sn is not None else None
            if sn is None or sn.status != "creating" or v is None or v.provider_location is None:
                LOG.warning("Snapshot %s is not creating on %s: nothing to do", snapshot_id, self.host)
                return
            location = v.provider_location
        made, error = self._run(f"Creating snapshot {snapshot_id}",
                                lambda: self.backend.create_snapshot(snapshot_id, location))
        with self.db.writer() as s:
            row = s.get(Snapshot, snapshot_id)
            if row is None or row.status != "creating":
                # Deleted (or reset) by an admin meanwhile: that delete removes what was made once it is recorded.
                if row is not None and made is not None:
                    row.provider_location = made
                elif made is not None:
                    self._run(f"Removing deleted snapshot {snapshot_id}",
                              functools.partial(self.backend.delete_snapshot, made))
                return
            if error is not None:
                row.status, row.error_message = "error", error
            else:
                row.status, row.provider_location, row.error_message = "available", made, None
            row.updated_at = types.utcnow()
            s.flush()
            if row.group_snapshot_id is not None:
                settle_group_snapshot(s, row.group_snapshot_id)  # a group snapshot follows its snapshots
            s.expunge(row)
        if error is None:
            self.notifier.snapshot("create", row)

    def delete_snapshot(self, snapshot_id: str) -> None:
        with self.db.reader() as s:
            sn = s.get(Snapshot, snapshot_id)
            if sn is None or sn.status != "deleting":
                return
            location = sn.provider_location
            s.expunge(sn)
        if location is not None:
            _, error = self._run(f"Deleting snapshot {snapshot_id}", functools.partial(self.backend.delete_snapshot, location))
            if error is not None:
                with self.db.writer() as s:
                    row = s.get(Snapshot, snapshot_id)
                    if row is not None:
                        row.status, row.error_message = "error_deleting", error
                return
        with self.db.writer() as s:
            s.execute(sa.delete(Snapshot).where(Snapshot.id == snapshot_id))
        sn.status = "deleted"
        self.notifier.snapshot("delete", sn)

    # -- backups ---------------------------------------------------------------

    def create_backup(self, backup_id: str) -> None:
        """Copy the backup's source into the backup store: the backup ``available`` (or ``error`` with its
        ``fail_reason``) and the source back to the status it had."""
        with self.db.reader() as s:
            b = s.get(Backup, backup_id)
            if b is None or b.status != "creating" or b.host != self.host:
                LOG.warning("Backup %s is not creating on %s: nothing to do", backup_id, self.host)
                return
            src = s.get(Snapshot, b.snapshot_id) if b.snapshot_id else s.get(Volume, b.volume_id)
            source = src.provider_location if src is not None else None
            parent = s.get(Backup, b.parent_id) if b.parent_id else None
            parent_location = parent.provider_location if parent is not None else None
            snapshot_id, parent_id, volume_id = b.snapshot_id, b.parent_id, b.volume_id
        made: str | None = None
        if source is None:
            error: str | None = f"The {'snapshot' if snapshot_id else 'volume'} to back up has no data."
        elif parent_id is not None and parent_location is None:
            error = f"The parent backup {parent_id} has no data."
        else:
            made, error = self._run(f"Backing up volume {volume_id} to {backup_id}",
                                    functools.partial(self.backups.backup, backup_id, source, parent_location))
        with self.db.writer() as s:
            row = s.get(Backup, backup_id)
            if row is None:  # force-deleted meanwhile
                if made is not None:
                    self._run(f"Removing the data of deleted backup {backup_id}",
                              functools.partial(self.backups.delete, made))
                return
            self._give_back_source(s, row)
            if error is not None:
                row.status, row.fail_reason = "error", error
            else:
                row.status, row.provider_location, row.object_count, row.fail_reason = "available", made, 1, None
            row.updated_at = types.utcnow()
            s.flush()
            s.expunge(row)
        if error is None:
            LOG.info("Backup %s of volume %s made at %s", backup_id, row.volume_id, made)
            self.notifier.backup("create", row)

    def delete_backup(self, backup_id: str) -> None:
        """Remove the backup's data (unless an imported record still names it) and its record."""
        with self.db.reader() as s:
            b = s.get(Backup, backup_id)
            if b is None or b.status != "deleting":
                return
            location = b.provider_location
            shared = location is not None and s.scalar(
                sa.select(sa.func.count()).select_from(Backup).where(Backup.provider_location == location,
                                                                     Backup.id != backup_id))
            s.expunge(b)
        if location is not None and not shared:
            _, error = self._run(f"Deleting backup {backup_id}", functools.partial(self.backups.delete, location))
            if error is not None:
                with self.db.writer() as s:
                    row = s.get(Backup, backup_id)
                    if row is not None:
                        row.status, row.fail_reason, row.updated_at = "error_deleting", error, types.utcnow()
                return
        with self.db.writer() as s:
            s.execute(sa.delete(Backup).where(Backup.id == backup_id))
        LOG.info("Backup %s deleted", backup_id)
        b.status = "deleted"
        self.notifier.backup("delete", b)

    def restore_backup(self, backup_id: str, volume_id: str) -> None:
        """Write the backup to the volume (made here first when it is new); the volume gets the backed-up
        volume's metadata and bootable flag, as Cinder restores them. Both end ``available``, the volume
        ``error_restoring`` when the restore fails."""
        with self.db.reader() as s:
            b = s.get(Backup, backup_id)
            v = s.get(Volume, volume_id)
            if (b is None or b.status != "restoring" or v is None or v.status != "restoring-backup"
                    or v.host != self.host):
                LOG.warning("Backup %s is not restoring to volume %s on %s: nothing to do", backup_id, volume_id,
                            self.host)
                return
            backup_location, location, size = b.provider_location, v.provider_location, v.size
            meta = dict(b.volume_meta or {})
        is_new = location is None
        error: str | None = None
        if backup_location is None:
            error = f"Backup {backup_id} has no data."
        elif is_new:
            location, error = self._run(f"Creating volume {volume_id} to restore backup {backup_id}",
                                        lambda: self.backend.create(volume_id, size))
        if error is None:
            assert location is not None and backup_location is not None
            target, source = location, backup_location
            _, error = self._run(f"Restoring backup {backup_id} to volume {volume_id}",
                                 lambda: self.backups.restore(source, target))
            if error is not None and is_new:
                self._run(f"Removing volume {volume_id} after its failed restore",
                          functools.partial(self.backend.delete, target))
                location = None
        with self.db.writer() as s:
            row = s.get(Backup, backup_id)
            if row is not None and row.status == "restoring":
                row.status, row.restore_volume_id, row.updated_at = "available", None, types.utcnow()
            v = s.get(Volume, volume_id)
            if v is None:
                return
            v.updated_at = types.utcnow()
            if error is not None:
                v.status, v.error_message = "error_restoring", error
                if is_new:
                    v.provider_location = None
                return
            v.status, v.provider_location, v.error_message = "available", location, None
            items = {**v.metadata_dict, **{str(k): str(val) for k, val in (meta.get("metadata") or {}).items()}}
            v.metadata_items[:] = [VolumeMetadata(volume_id=v.id, key=k, value=val) for k, val in items.items()]
            v.bootable = bool(meta.get("bootable")) or v.bootable
            if meta.get("image_metadata"):
                v.image_metadata = meta["image_metadata"]
            s.flush()
            s.expunge(v)
        LOG.info("Backup %s restored to volume %s", backup_id, volume_id)
        if is_new:
            self.notifier.volume("create", v)
