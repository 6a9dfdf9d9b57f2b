"""Cinder's attachments (3.27+): reserve a volume for a server, give the connector, complete, delete.

States: attachment ``reserved`` (volume ``reserved``) → with a connector ``attaching`` (volume ``attaching``)
→ ``os-complete`` ``attached`` (volume ``in-use``); deleting the last attachment makes the volume
``available``. Only the record is kept here: no export is made yet (the target over tgt/NBD and the libvirt
network disk are the next step), so ``connection_info`` names the local file, usable by a compute on the
storage host only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.core import records
from nubis.volume.db.models import Volume, VolumeAttachment

MAX_CONNECTOR_KEYS = 64


def _connection_info(v: Volume, attachment: VolumeAttachment) -> dict[str, Any] | None:
    if attachment.attach_status == "reserved" or v.provider_location is None:
        return None
    return {"driver_volume_type": "file", "data": {"device_path": v.provider_location, "format": "raw",
                                                  "access_mode": attachment.attach_mode},
            "attachment_id": attachment.id}


class AttachmentStore:
    """Attachments as dicts: ``records.attachment_to_dict`` plus ``connection_info``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _volume(s: Any, ctx: RequestContext, volume_id: str) -> Volume:
        v = s.get(Volume, volume_id, with_for_update=True)
        if v is None or (v.project_id != ctx.project_id and not ctx.is_admin):
            raise exceptions.NotFound(f"Volume {volume_id} could not be found.")
        return v  # type: ignore[no-any-return]

    @staticmethod
    def _row(s: Any, ctx: RequestContext, attachment_id: str) -> tuple[VolumeAttachment, Volume]:
        a = s.get(VolumeAttachment, attachment_id)
        v = s.get(Volume, a.volume_id) if a is not None else None
        if a is None or v is None or (v.project_id != ctx.project_id and not ctx.is_admin):
            raise exceptions.NotFound(f"Volume attachment {attachment_id} could not be found.")
        return a, v

    @staticmethod
    def _dict(a: VolumeAttachment, v: Volume) -> dict[str, Any]:
        return {**records.attachment_to_dict(a), "connection_info": _connection_info(v, a)}

    def list(self, ctx: RequestContext, all_projects: bool) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            query = sa.select(VolumeAttachment, Volume).join(Volume, Volume.id == VolumeAttachment.volume_id)
            if not all_projects:
                query = query.where(Volume.project_id == ctx.project_id)
            return [self._dict(a, v) for a, v in s.execute(query.order_by(VolumeAttachment.created_at.desc()))]

    def get(self, ctx: RequestContext, attachment_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return self._dict(*self._row(s, ctx, attachment_id))

    def owner(self, attachment_id: str) -> str | None:
        with self.db.reader() as s:
            a = s.get(VolumeAttachment, attachment_id)
            v = s.get(Volume, a.volume_id) if a is not None else None
            return v.project_id if v is not None else None

    def create(self, ctx: RequestContext, volume_id: str, instance_uuid: str | None,
               connector: dict[str, Any] | None, mode: str) -> dict[str, Any]:
        """Reserve ``volume_id`` for ``instance_uuid``; with a ``connector``, go on to attaching.

        400 unless the volume is available (no multiattach yet).
        """
        with self.db.writer() as s:
            v = self._volume(s, ctx, volume_id)
            if v.status != "available":
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} status must be available to "
                                            f"reserve, but the current status is: {v.status}.")
            a = VolumeAttachment(id=types.new_uuid(), volume_id=v.id, instance_uuid=instance_uuid,
                                 attach_mode=mode, attach_status="reserved")
            v.attachments.append(a)
            v.status, v.updated_at = "reserved", types.utcnow()
            if connector is not None:
                self._connect(v, a, connector)
            s.flush()
            return self._dict(a, v)

    @staticmethod
    def _connect(v: Volume, a: VolumeAttachment, connector: dict[str, Any]) -> None:
        if len(connector) > MAX_CONNECTOR_KEYS:
            raise exceptions.BadRequest(f"Invalid connector: more than {MAX_CONNECTOR_KEYS} keys.")
        a.connector = connector
        a.attached_host = str(connector.get("host"))[:255] if connector.get("host") else None
        a.mountpoint = str(connector.get("mountpoint"))[:255] if connector.get("mountpoint") else a.mountpoint
        a.attach_status, a.updated_at = "attaching", types.utcnow()
        if v.status in ("reserved", "available"):
            v.status = "attaching"

    def update(self, ctx: RequestContext, attachment_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        """Give a reserved attachment its connector: attaching, with connection_info."""
        with self.db.writer() as s:
            a, v = self._row(s, ctx, attachment_id)
            if a.attach_status not in ("reserved", "attaching"):
                raise exceptions.BadRequest(f"Invalid attachment: attachment {attachment_id} is {a.attach_status}.")
            self._connect(v, a, connector)
            return self._dict(a, v)

    def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        """The compute host has connected: attached, the volume in-use."""
        with self.db.writer() as s:
            a, v = self._row(s, ctx, attachment_id)
            if a.attach_status not in ("attaching", "attached"):
                raise exceptions.BadRequest(f"Invalid attachment: attachment {attachment_id} has no connector "
                                            f"yet (it is {a.attach_status}).")
            a.attach_status, a.updated_at = "attached", types.utcnow()
            v.status, v.attach_status, v.updated_at = "in-use", "attached", types.utcnow()

    def delete(self, ctx: RequestContext, attachment_id: str) -> list[dict[str, Any]]:
        """Remove the attachment; the volume becomes available when none is left. Returns those left."""
        with self.db.writer() as s:
            a, v = self._row(s, ctx, attachment_id)
            v.attachments.remove(a)
            if not v.attachments:
                v.status, v.attach_status = "available", "detached"
            elif not any(x.attach_status == "attached" for x in v.attachments):
                v.attach_status = "detached"
            v.updated_at = types.utcnow()
            s.flush()
            return [self._dict(x, v) for x in v.attachments]
