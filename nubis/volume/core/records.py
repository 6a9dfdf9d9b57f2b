"""Volume and snapshot rows as plain dicts (what the views render)."""

from __future__ import annotations

from typing import Any

from nubis.volume.db.models import Snapshot, Volume


def attachment_to_dict(a: Any) -> dict[str, Any]:
    return {"id": a.id, "volume_id": a.volume_id, "instance_uuid": a.instance_uuid, "attached_host": a.attached_host,
            "mountpoint": a.mountpoint, "attach_mode": a.attach_mode, "attach_status": a.attach_status,
            "connector": a.connector, "created_at": a.created_at, "updated_at": a.updated_at}


def volume_to_dict(v: Volume, type_name: str | None) -> dict[str, Any]:
    return {"id": v.id, "project_id": v.project_id, "user_id": v.user_id, "name": v.name,
            "description": v.description, "size": v.size, "status": v.status, "attach_status": v.attach_status,
            "availability_zone": v.availability_zone, "volume_type_id": v.volume_type_id, "volume_type": type_name,
            "snapshot_id": v.snapshot_id, "source_volid": v.source_volid, "host": v.host,
            "image_id": v.image_id, "image_metadata": v.image_metadata,
            "bootable": v.bootable, "multiattach": v.multiattach, "metadata": v.metadata_dict,
            "attachments": [attachment_to_dict(a) for a in v.attachments if a.attach_status == "attached"],
            "error_message": v.error_message, "group_id": v.group_id, "created_at": v.created_at,
            "updated_at": v.updated_at}


def snapshot_to_dict(sn: Snapshot, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    return {"id": sn.id, "project_id": sn.project_id, "user_id": sn.user_id, "volume_id": sn.volume_id,
            "metadata": dict(metadata or {}),
            "name": sn.name, "description": sn.description, "size": sn.size, "status": sn.status,
            "error_message": sn.error_message, "created_at": sn.created_at, "updated_at": sn.updated_at,
            "progress": sn.progress, "group_snapshot_id": sn.group_snapshot_id}
