"""Cinder's attachments (3.27+): reserve a volume for a server, give the connector, complete, delete.

States: attachment ``reserved`` (volume ``reserved``) → with a connector ``attaching`` (volume ``attaching``)
→ ``os-complete`` ``attached`` (volume ``in-use``); deleting the last attachment makes the volume
``available``. A connector makes the storage host export the volume (an RPC call to its manager, after the
state is committed): ``connection_info`` is then the export (``driver_volume_type: nbd``, host, port, export
name), recorded on the attachment. Deleting the last live attachment casts the export's removal.
"""

from __future__ import annotations

import builtins
from typing import Any

import oslo_messaging
import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.core import records
from nubis.volume.db.models import Volume, VolumeAttachment
from nubis.volume.manager.rpcapi import VolumeManagerAPI

MAX_CONNECTOR_KEYS = 64


def _connection_info(attachment: VolumeAttachment) -> dict[str, Any] | None:
    info = attachment.connection_info
    if attachment.attach_status == "reserved" or not info:
        return None
    return {**info, "data": {**info.get("data", {}), "access_mode": attachment.attach_mode},
            "attachment_id": attachment.id}


class AttachmentStore:
    """Attachments as dicts: ``records.attachment_to_dict`` plus ``connection_info``."""

    def __init__(self, db: Database, manager: VolumeManagerAPI) -> None:
        self.db = db
        self.manager = manager

    def _export(self, ctx: RequestContext, host: str | None, volume_id: str,
                attachment_id: str | None) -> dict[str, Any]:
        """The storage host's export of the volume (its ``connection_info``); 500 naming the cause if it fails."""
        if host is None:
            raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} has no storage host.")
        self.manager.check_can_send("initialize_connection")
        try:
            answer = self.manager.initialize_connection(ctx, host, volume_id, attachment_id)
        except oslo_messaging.MessagingTimeout as e:
            raise exceptions.ServiceUnavailable(f"The volume manager of {host} did not answer: the volume "
                                                f"could not be exported.") from e
        if "error" in answer:
            raise exceptions.InternalError(f"Unable to export volume {volume_id}: {answer['error']}")
        return answer["connection_info"]  # type: ignore[no-any-return]

    def _host(self, volume_id: str) -> str | None:
        with self.db.reader() as s:
            v = s.get(Volume, volume_id)
            return v.host if v is not None else None

    def initialize(self, ctx: RequestContext, volume_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        """Cinder's legacy ``os-initialize_connection``: export the volume, return ``connection_info``."""
        if len(connector) > MAX_CONNECTOR_KEYS:
            raise exceptions.BadRequest(f"Invalid connector: more than {MAX_CONNECTOR_KEYS} keys.")
        with self.db.reader() as s:
            v = self._volume(s, ctx, volume_id, lock=False)
            if v.status not in ("available", "reserved", "attaching", "in-use"):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} is {v.status}: it cannot "
                                            f"be connected.")
            host = v.host
        return self._export(ctx, host, volume_id, None)

    def terminate(self, ctx: RequestContext, volume_id: str) -> None:
        """Cinder's legacy ``os-terminate_connection``: the export goes once no attachment connects."""
        with self.db.reader() as s:
            host = self._volume(s, ctx, volume_id, lock=False).host
        if host is not None:
            self.manager.check_can_send("terminate_connection")
            self.manager.terminate_connection(ctx, host, volume_id)

    @staticmethod
    def _volume(s: Any, ctx: RequestContext, volume_id: str, lock: bool = True) -> Volume:
        v = s.get(Volume, volume_id, with_for_update=lock)
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
        return {**records.attachment_to_dict(a), "connection_info": _connection_info(a)}

    def list(self, ctx: RequestContext, all_projects: bool,
             filters: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The project's attachments (every project's with ``all_projects``), newest first, narrowed by Cinder's
        attachment filters: ``volume_id``, ``instance_id`` (the server), ``status`` or ``attach_status``."""
        with self.db.reader() as s:
            query = sa.select(VolumeAttachment, Volume).join(Volume, Volume.id == VolumeAttachment.volume_id)
            if not all_projects:
                query = query.where(Volume.project_id == ctx.project_id)
            columns = {"volume_id": VolumeAttachment.volume_id, "instance_id": VolumeAttachment.instance_uuid,
                       "status": VolumeAttachment.attach_status, "attach_status": VolumeAttachment.attach_status}
            for name, value in (filters or {}).items():
                if name in columns:
                    query = query.where(columns[name] == value)
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
            made, host = self._dict(a, v), v.host
        if connector is not None:
            made["connection_info"] = self._connected(ctx, host, volume_id, made["id"])
        return made

    def _connected(self, ctx: RequestContext, host: str | None, volume_id: str,
                   attachment_id: str) -> dict[str, Any]:
        """Export for a connected attachment; a failed export puts the attachment back to ``reserved``."""
        try:
            info = self._export(ctx, host, volume_id, attachment_id)
        except exceptions.NubisError:
            with self.db.writer() as s:
                a = s.get(VolumeAttachment, attachment_id)
                v = s.get(Volume, volume_id)
                if a is not None and a.attach_status == "attaching":
                    a.attach_status, a.connector = "reserved", None
                    if v is not None and v.status == "attaching":
                        v.status = "reserved"
            raise
        with self.db.reader() as s:
            return self._dict(*self._row(s, ctx, attachment_id))["connection_info"] or info

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
            # An attachment completed without a connector (Nova's, for a shelved-offloaded server) is connected
            # when the server is unshelved.
            unconnected = a.attach_status == "attached" and a.connection_info is None
            if a.attach_status not in ("reserved", "attaching") and not unconnected:
                raise exceptions.BadRequest(f"Invalid attachment: attachment {attachment_id} is {a.attach_status}.")
            self._connect(v, a, connector)
            made, host = self._dict(a, v), v.host
        made["connection_info"] = self._connected(ctx, host, made["volume_id"], attachment_id)
        return made

    def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        """The compute host has connected (or, for a reserved attachment, the server has no host yet: Nova's
        attach to a shelved-offloaded server): attached, the volume in-use."""
        with self.db.writer() as s:
            a, v = self._row(s, ctx, attachment_id)
            if a.attach_status not in ("reserved", "attaching", "attached"):
                raise exceptions.BadRequest(f"Invalid attachment: attachment {attachment_id} is "
                                            f"{a.attach_status}.")
            a.attach_status, a.updated_at = "attached", types.utcnow()
            v.status, v.attach_status, v.updated_at = "in-use", "attached", types.utcnow()

    def delete(self, ctx: RequestContext, attachment_id: str) -> builtins.list[dict[str, Any]]:
        """Remove the attachment; the volume becomes available when none is left. Returns those left."""
        with self.db.writer() as s:
            a, v = self._row(s, ctx, attachment_id)
            v.attachments.remove(a)
            if not v.attachments:
                # An extend under way keeps its status: the manager ends it available once it sees no attachment.
                v.status, v.attach_status = "extending" if v.status == "extending" else "available", "detached"
            elif not any(x.attach_status == "attached" for x in v.attachments):
                v.attach_status = "detached"
            v.updated_at = types.utcnow()
            s.flush()
            left, host, volume_id = [self._dict(x, v) for x in v.attachments], v.host, v.id
            connected = a.attach_status in ("attaching", "attached") or a.connection_info is not None
        if connected and host is not None and self.manager.can_send_version("1.1"):
            # The manager keeps the export while another attachment connects to it.
            self.manager.terminate_connection(ctx, host, volume_id)
        return left
