"""QoS specs bodies (Cinder's ``qos-specs``): a name, a consumer and any other keys as the specs."""

from __future__ import annotations

from typing import Any

CONSUMER: dict[str, Any] = {"type": "string", "enum": ["front-end", "back-end", "both"]}
# A spec's value: a string, or a number (kept as its string, as Cinder stores every spec).
_VALUE: dict[str, Any] = {"anyOf": [{"type": "string", "maxLength": 255}, {"type": "number"}]}
_KEY: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {"qos_specs": {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
                       "consumer": CONSUMER},
        "propertyNames": _KEY,
        "additionalProperties": _VALUE,
        "required": ["name"],
        "maxProperties": 130,
    }},
    "required": ["qos_specs"],
    "additionalProperties": False,
}

SET_KEYS: dict[str, Any] = {
    "type": "object",
    "properties": {"qos_specs": {
        "type": "object",
        "properties": {"consumer": CONSUMER},
        "propertyNames": _KEY,
        "additionalProperties": _VALUE,
        "minProperties": 1,
        "maxProperties": 128,
    }},
    "required": ["qos_specs"],
    "additionalProperties": False,
}

DELETE_KEYS: dict[str, Any] = {
    "type": "object",
    "properties": {"keys": {"type": "array", "items": _KEY, "minItems": 1, "maxItems": 128, "uniqueItems": True}},
    "required": ["keys"],
    "additionalProperties": False,
}


def as_specs(values: dict[str, Any]) -> dict[str, str]:
    """Validated spec values as strings (numbers as Cinder stores them: ``2000`` → ``"2000"``)."""
    return {k: v if isinstance(v, str) else str(v) for k, v in values.items()}
