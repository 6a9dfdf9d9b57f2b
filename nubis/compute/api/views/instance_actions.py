"""A server's actions (``os-instance-actions``), per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.compute.db.models import InstanceAction


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def action(row: InstanceAction, version: Version) -> dict[str, Any]:
    """One action; ``updated_at`` (when it last changed) appeared in 2.58."""
    body = {"action": row.action, "instance_uuid": row.instance_uuid, "request_id": row.request_id,
            "user_id": row.user_id, "project_id": row.project_id, "start_time": _iso(row.start_time),
            "message": row.message}
    if version >= Version(2, 58):
        body["updated_at"] = _iso(row.finish_time or row.start_time)
    return body


def with_events(row: InstanceAction, version: Version) -> dict[str, Any]:
    """One action as shown by itself, with its events (none are recorded per step here)."""
    return {**action(row, version), "events": []}
