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
