"""Snapshot bodies."""

from __future__ import annotations

from typing import Any

from nubis.volume.api.schemas import DESCRIPTION, METADATA, NAME, UUID

_FORCE: dict[str, Any] = {"anyOf": [{"type": "boolean"},
                                    {"type": "string", "enum": ["true", "false", "True", "False", "1", "0"]}]}

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {"snapshot": {
        "type": "object",
        "properties": {"volume_id": {"anyOf": [UUID, {"type": "null"}]}, "name": NAME, "description": DESCRIPTION, "display_name": NAME,
                       "display_description": DESCRIPTION, "force": _FORCE,
                       "metadata": {"anyOf": [METADATA, {"type": "null"}]}},
        "required": ["volume_id"],
        "additionalProperties": False,
    }},
    "required": ["snapshot"],
    "additionalProperties": False,
}

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"snapshot": {
        "type": "object",
        "properties": {"name": NAME, "description": DESCRIPTION, "display_name": NAME,
                       "display_description": DESCRIPTION},
        "additionalProperties": False,
    }},
    "required": ["snapshot"],
    "additionalProperties": False,
}

# Cinder's snapshot statuses, as os-reset_status and os-update_snapshot_status take them.
STATUSES = ["creating", "available", "deleting", "error", "error_deleting", "unmanaging", "backing-up", "restoring"]
_EMPTY: dict[str, Any] = {"type": ["object", "null"], "additionalProperties": False}

ACTIONS: dict[str, dict[str, Any]] = {
    "os-reset_status": {"type": "object", "properties": {"status": {"type": "string", "enum": STATUSES}},
                        "required": ["status"], "additionalProperties": False},
    "os-force_delete": _EMPTY,
    "os-update_snapshot_status": {"type": "object", "properties": {
        "status": {"type": "string", "enum": STATUSES},
        "progress": {"type": ["string", "null"], "maxLength": 255}},
        "required": ["status"], "additionalProperties": False},
}
