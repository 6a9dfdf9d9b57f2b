"""Attachment bodies (3.27+; ``mode`` from 3.54)."""

from __future__ import annotations

from typing import Any

from nubis.volume.api.schemas import UUID

CONNECTOR: dict[str, Any] = {"type": "object", "maxProperties": 64}

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {"attachment": {
        "type": "object",
        "properties": {"volume_uuid": UUID, "instance_uuid": {"anyOf": [UUID, {"type": "null"}]},
                       "connector": {"anyOf": [CONNECTOR, {"type": "null"}]},
                       "mode": {"type": "string", "enum": ["rw", "ro"]}},
        "required": ["volume_uuid"],
        "additionalProperties": False,
    }},
    "required": ["attachment"],
    "additionalProperties": False,
}

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"attachment": {
        "type": "object", "properties": {"connector": CONNECTOR}, "required": ["connector"],
        "additionalProperties": False,
    }},
    "required": ["attachment"],
    "additionalProperties": False,
}

COMPLETE: dict[str, Any] = {
    "type": "object", "properties": {"os-complete": {"type": ["object", "null"]}}, "required": ["os-complete"],
    "additionalProperties": False,
}
