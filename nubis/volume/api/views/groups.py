"""Group type, group and group snapshot bodies (Cinder v3), per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.volume.api.views import timestamp


def group_type(t: dict[str, Any], specs: bool) -> dict[str, Any]:
    """A group type; ``specs`` (``group:access_group_types_specs``, admins) adds its ``group_specs``."""
    body = {"id": t["id"], "name": t["name"], "description": t["description"], "is_public": t["is_public"]}
    if specs:
        body["group_specs"] = t["group_specs"]
    return body


def group_summary(g: dict[str, Any]) -> dict[str, Any]:
    """A brief listing's item, and the body of a create."""
    return {"id": g["id"], "name": g["name"]}


def group_detail(g: dict[str, Any], version: Version, list_volume: bool, project_id: bool) -> dict[str, Any]:
    """Show and ``/detail``: ``group_snapshot_id`` and ``source_group_id`` from 3.14, ``volumes`` (with
    ``list_volume``) from 3.25, ``replication_status`` from 3.38, ``project_id`` (admins) from 3.58."""
    body: dict[str, Any] = {
        "id": g["id"], "status": g["status"], "availability_zone": g["availability_zone"],
        "created_at": timestamp(g["created_at"]), "name": g["name"], "description": g["description"],
        "group_type": g["group_type_id"], "volume_types": list(g["volume_types"]),
    }
    if version >= Version(3, 14):
        body["group_snapshot_id"] = g["group_snapshot_id"]
        body["source_group_id"] = g["source_group_id"]
    if version >= Version(3, 25) and list_volume:
        body["volumes"] = list(g["volumes"])
    if version >= Version(3, 38):
        body["replication_status"] = "disabled"
    if version >= Version(3, 58) and project_id:
        body["project_id"] = g["project_id"]
    return body


def group_snapshot_summary(gs: dict[str, Any]) -> dict[str, Any]:
    """A brief listing's item (with ``group_type_id``, as Cinder) and the body of a create."""
    return {"id": gs["id"], "name": gs["name"], "group_type_id": gs["group_type_id"]}


def group_snapshot_detail(gs: dict[str, Any], version: Version, project_id: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": gs["id"], "group_id": gs["group_id"], "group_type_id": gs["group_type_id"], "status": gs["status"],
        "created_at": timestamp(gs["created_at"]), "name": gs["name"], "description": gs["description"],
    }
    if version >= Version(3, 58) and project_id:
        body["project_id"] = gs["project_id"]
    return body
