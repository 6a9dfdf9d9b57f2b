"""Backup bodies (Cinder v3 ``backup``), per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.api.router import Request
from nubis.volume.api.views import timestamp

METADATA = Version(3, 43)
PROJECT = Version(3, 18)
USER_ID = Version(3, 56)


def links(req: Request, project_id: str, backup_id: str) -> list[dict[str, str]]:
    base = req.application_url
    return [{"rel": "self", "href": f"{base}/v3/{project_id}/backups/{backup_id}"},
            {"rel": "bookmark", "href": f"{base}/{project_id}/backups/{backup_id}"}]


def summary(req: Request, b: dict[str, Any]) -> dict[str, Any]:
    """A brief listing's item, and the body of a create, update or import (as Cinder's: id, name, links)."""
    return {"id": b["id"], "name": b["name"], "links": links(req, b["project_id"], b["id"])}


def detail(req: Request, b: dict[str, Any], version: Version, is_admin: bool) -> dict[str, Any]:
    """Show and ``/detail``; admins also see the owner (3.18) and the user (3.56)."""
    body: dict[str, Any] = {
        "id": b["id"], "status": b["status"], "size": b["size"], "object_count": b["object_count"],
        "availability_zone": b["availability_zone"], "container": b["container"],
        "created_at": timestamp(b["created_at"]), "updated_at": timestamp(b["updated_at"]), "name": b["name"],
        "description": b["description"], "fail_reason": b["fail_reason"], "volume_id": b["volume_id"],
        "links": links(req, b["project_id"], b["id"]), "is_incremental": b["is_incremental"],
        "has_dependent_backups": b["has_dependent_backups"], "snapshot_id": b["snapshot_id"],
        "data_timestamp": timestamp(b["data_timestamp"]),
    }
    if version >= METADATA:
        body["metadata"] = b["metadata"]
    if is_admin and version >= PROJECT:
        body["os-backup-project-attr:project_id"] = b["project_id"]
    if is_admin and version >= USER_ID:
        body["user_id"] = b["user_id"]
    return body
