"""Attachment bodies (Cinder v3 ``attachment``)."""

from __future__ import annotations

from typing import Any

from nubis.volume.api.views import timestamp


def summary(a: dict[str, Any]) -> dict[str, Any]:
    return {"id": a["id"], "status": a["attach_status"], "instance": a["instance_uuid"], "volume_id": a["volume_id"]}


def detail(a: dict[str, Any]) -> dict[str, Any]:
    return {**summary(a), "attach_mode": a["attach_mode"], "connection_info": a["connection_info"] or {},
            "attached_at": timestamp(a["updated_at"]) if a["attach_status"] == "attached" else None,
            "detached_at": None}
