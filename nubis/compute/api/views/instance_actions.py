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


# Actions that are one step on the compute host, started by the API and ended by the agent: the action's own
# start and end are that step's, shown as Nova's event of that name (Tempest waits for ``compute_extend_volume``
# to end). Other actions record no steps.
ONE_STEP_EVENTS = {"extend_volume": "compute_extend_volume"}


def with_events(row: InstanceAction, version: Version) -> dict[str, Any]:
    """One action as shown by itself, with its events (Nova's ``event``, ``start_time``, ``finish_time``,
    ``result`` ``Success`` or ``Error``, ``traceback``)."""
    events = []
    if row.action in ONE_STEP_EVENTS:
        result = None if row.finish_time is None else ("Success" if row.message is None else "Error")
        events.append({"event": ONE_STEP_EVENTS[row.action], "start_time": _iso(row.start_time),
                       "finish_time": _iso(row.finish_time), "result": result, "traceback": None})
    return {**action(row, version), "events": events}
