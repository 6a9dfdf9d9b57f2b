"""Snapshot bodies (Cinder v3 ``snapshot``), per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.volume.api.views import timestamp

_PROGRESS = {"available": "100%", "creating": "0%"}


def summary(sn: dict[str, Any], version: Version) -> dict[str, Any]:
    """A listing's item, and the body of a create or update."""
    body: dict[str, Any] = {
        "id": sn["id"], "name": sn["name"], "description": sn["description"], "volume_id": sn["volume_id"],
        "size": sn["size"], "status": sn["status"], "metadata": sn.get("metadata", {}),
        "created_at": timestamp(sn["created_at"]), "updated_at": timestamp(sn["updated_at"]),
    }
    if version >= Version(3, 14):
        body["group_snapshot_id"] = sn.get("group_snapshot_id")
    if version >= Version(3, 41):
        body["user_id"] = sn["user_id"]
    return body


def detail(sn: dict[str, Any], version: Version) -> dict[str, Any]:
    """Show and ``/detail``: with the extended attributes (owner, progress)."""
    return {**summary(sn, version), "os-extended-snapshot-attributes:project_id": sn["project_id"],
            "os-extended-snapshot-attributes:progress": sn.get("progress") or _PROGRESS.get(sn["status"], "0%")}
