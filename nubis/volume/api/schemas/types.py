"""Volume type and extra spec bodies."""

from __future__ import annotations

from typing import Any

from nubis.volume.api.schemas import DESCRIPTION

SPECS: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
    "additionalProperties": {"type": "string", "maxLength": 255},
    "maxProperties": 128,
}
_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}
_PUBLIC: dict[str, Any] = {"anyOf": [{"type": "boolean"},
                                     {"type": "string", "enum": ["true", "false", "True", "False", "1", "0"]}]}

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {"volume_type": {
        "type": "object",
        "properties": {"name": _NAME, "description": DESCRIPTION, "os-volume-type-access:is_public": _PUBLIC,
                       "extra_specs": SPECS},
        "required": ["name"],
        "additionalProperties": False,
    }},
    "required": ["volume_type"],
    "additionalProperties": False,
}

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"volume_type": {
        "type": "object",
        "properties": {"name": _NAME, "description": DESCRIPTION, "is_public": _PUBLIC},
        "additionalProperties": False,
        "minProperties": 1,
    }},
    "required": ["volume_type"],
    "additionalProperties": False,
}

EXTRA_SPECS: dict[str, Any] = {
    "type": "object", "properties": {"extra_specs": SPECS}, "required": ["extra_specs"],
    "additionalProperties": False,
}

ONE_SPEC: dict[str, Any] = {**SPECS, "minProperties": 1, "maxProperties": 1}

_PROJECT: dict[str, Any] = {
    "type": "object",
    "properties": {"project": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}},
    "required": ["project"],
    "additionalProperties": False,
}
# POST /types/{id}/action: each access action's argument.
ACCESS_ACTIONS: dict[str, dict[str, Any]] = {"addProjectAccess": _PROJECT, "removeProjectAccess": _PROJECT}
