"""The volume service's notifications, in Cinder's shape: ``volume.<action>.end`` and ``snapshot.<action>.end``.

Cinder's volume service announces the outcome of its storage work with a flat payload (``volume_id``,
``tenant_id``, ``size``, ``status``, ``created_at``, ``launched_at``, ...; a snapshot's with ``snapshot_id``,
``volume_id`` and ``volume_size``). Nubis sends the same events from the storage host's manager once the
change is recorded, on the versioned-notifications topic that the metering service reads; consumers take the
time of the change from the notification's timestamp. Sent: ``volume.create.end`` (the volume is
available, also a volume a backup was restored to), ``volume.resize.end`` (extended), ``volume.delete.end``,
``snapshot.create.end``, ``snapshot.delete.end``, ``backup.create.end``, ``backup.delete.end`` (Cinder's
``_usage_from_backup``: ``backup_id``, ``volume_id``, ``size``, ...). A notification that cannot be sent is logged: the metering audit corrects what
consumers miss.
"""

from __future__ import annotations

import logging
from typing import Any

from nubis.common import context, rpc
from nubis.volume.db.models import Backup, Snapshot, Volume

LOG = logging.getLogger(__name__)


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def volume_payload(v: Volume) -> dict[str, Any]:
    """Cinder's ``_usage_from_volume``: who owns the volume, its size in GiB and its state."""
    return {"tenant_id": v.project_id, "user_id": v.user_id, "volume_id": v.id, "size": v.size,
            "status": v.status, "display_name": v.name, "availability_zone": v.availability_zone,
            "volume_type": v.volume_type_id, "host": v.host, "snapshot_id": v.snapshot_id,
            "created_at": _time(v.created_at), "launched_at": _time(v.updated_at)}


def snapshot_payload(sn: Snapshot) -> dict[str, Any]:
    """Cinder's ``_usage_from_snapshot``: the owner, the snapshot and its volume's size in GiB."""
    return {"tenant_id": sn.project_id, "user_id": sn.user_id, "snapshot_id": sn.id, "volume_id": sn.volume_id,
            "volume_size": sn.size, "status": sn.status, "display_name": sn.name,
            "created_at": _time(sn.created_at)}


def backup_payload(b: Backup) -> dict[str, Any]:
    """Cinder's ``_usage_from_backup``: the owner, the backup, its volume and size in GiB."""
    return {"tenant_id": b.project_id, "user_id": b.user_id, "backup_id": b.id, "volume_id": b.volume_id,
            "snapshot_id": b.snapshot_id, "size": b.size, "status": b.status, "display_name": b.name,
            "availability_zone": b.availability_zone, "host": b.host, "container": b.container,
            "service": b.service, "fail_reason": b.fail_reason, "parent_id": b.parent_id,
            "created_at": _time(b.created_at)}


class VolumeNotifier:
    """Sends the volume service's ``.end`` events (``notifier`` None: sends nothing, for tools and tests)."""

    def __init__(self, notifier: rpc.Notifier | None) -> None:
        self.notifier = notifier

    def volume(self, action: str, v: Volume) -> None:
        """``volume.<action>.end`` for ``v`` as it is now (call it after the change is committed)."""
        self._send(f"volume.{action}.end", volume_payload(v))

    def snapshot(self, action: str, sn: Snapshot) -> None:
        """``snapshot.<action>.end`` for ``sn`` as it is now."""
        self._send(f"snapshot.{action}.end", snapshot_payload(sn))

    def backup(self, action: str, b: Backup) -> None:
        """``backup.<action>.end`` for ``b`` as it is now."""
        self._send(f"backup.{action}.end", backup_payload(b))

    def _send(self, event_type: str, payload: dict[str, Any]) -> None:
        if self.notifier is None:
            return
        ctx = context.current() or context.admin_context()
        try:
            self.notifier.info(ctx, event_type, payload)
        except Exception:  # noqa: BLE001 - the storage work is done; the metering audit corrects a miss
            LOG.exception("Could not send %s", event_type)
