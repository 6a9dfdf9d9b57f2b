"""JSON schemas of the volume API's request bodies (Cinder v3's)."""

from __future__ import annotations

from typing import Any

NAME: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
DESCRIPTION: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
UUID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 36}
# Cinder takes a size in GiB as a number or as a string of digits ("2"); handlers turn it into an int.
SIZE: dict[str, Any] = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 2 ** 31 - 1},
                                  {"type": "string", "pattern": "^0*[1-9][0-9]{0,8}$"}]}


def size_of(value: int | str | None) -> int | None:
    """A validated ``SIZE`` as an int (None stays None). Raises nothing: the schema bounded it."""
    return None if value is None else int(value)
METADATA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
    "additionalProperties": {"type": "string", "maxLength": 255},
}
