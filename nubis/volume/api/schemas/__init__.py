"""JSON schemas of the volume API's request bodies (Cinder v3's)."""

from __future__ import annotations

from typing import Any

NAME: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
DESCRIPTION: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
UUID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 36}
SIZE: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 2 ** 31 - 1}
METADATA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
    "additionalProperties": {"type": "string", "maxLength": 255},
}
