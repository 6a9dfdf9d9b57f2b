"""JSON schemas of compute request bodies, per microversion, with Nova's field names and limits.

Each resource module lists its schemas as ``[(first microversion, schema), ...]``
in ascending order; ``pick`` returns the one that applies to a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nubis.api.microversion import Version
from nubis.common import exceptions

Schema = dict[str, Any]
Versioned = Sequence[tuple[Version, Schema]]

MAX_INT = 2**31 - 1  # Nova's bound for integers stored in 32-bit columns

# Shared parameter types (Nova's parameter_types, restated).
NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s)[\s\S]*(?<!\s)$"}
NAME_WITH_SPACES: Schema = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}
DESCRIPTION: Schema = {"type": ["string", "null"], "maxLength": 255}
BOOLEAN: Schema = {"type": ["boolean", "string"],
                   "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t",
                            False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f"]}
UUID: Schema = {"type": "string", "format": "uuid"}
METADATA: Schema = {"type": "object",
                    "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255}},
                    "additionalProperties": False}
# Server tags: no '/' (it would end the URL segment) and no ',' (it separates tags in list filters).
TAG: Schema = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": r"^[^,/]*$"}
MAX_TAGS = 50


def integer(minimum: int, maximum: int = MAX_INT) -> Schema:
    """An integer in [minimum, maximum]; Nova also takes it as a string of digits."""
    return {"oneOf": [{"type": "integer", "minimum": minimum, "maximum": maximum},
                      {"type": "string", "pattern": "^-?[0-9]+$"}]}


def pick(schemas: Versioned, version: Version) -> Schema:
    """The schema of the newest entry whose first microversion is at most ``version``."""
    chosen = schemas[0][1]
    for first, schema in schemas:
        if version >= first:
            chosen = schema
    return chosen


def extend(schema: Schema, where: Sequence[str], **properties: Any) -> Schema:
    """A copy of ``schema`` with ``properties`` added to (or, with None, removed from) the object at ``where``."""
    import copy

    out = copy.deepcopy(schema)
    node = out
    for key in where:
        node = node["properties"][key]
    for name, value in properties.items():
        if value is None:
            node["properties"].pop(name, None)
            if name in node.get("required", []):
                node["required"].remove(name)
        else:
            node["properties"][name] = value
    return out


def as_int(value: Any, field: str, minimum: int, maximum: int = MAX_INT) -> int:
    """``value`` (an integer, or digits in a string) as an int in [minimum, maximum]; 400 naming ``field``."""
    try:
        number = int(value) if not isinstance(value, bool | float) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not minimum <= number <= maximum:
        raise exceptions.BadRequest(f"Invalid input for field/attribute {field}. Value: {value!r}. It must be an "
                                    f"integer from {minimum} to {maximum}.")
    return number
