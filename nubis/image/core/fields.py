"""What an image's fields may hold: Image v2's image schema, and the limits behind it.

``PROPERTIES`` is the schema Glance serves at ``GET /v2/schemas/image``
(types, enums, lengths, the id pattern). Requests are validated against
``WRITE_SCHEMA``: the same properties plus the bounds the database imposes
where Glance's schema is silent (``min_ram``/``min_disk`` are 32-bit
integers, property names are 255 characters), so that nothing reaches the
database that it would refuse.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from nubis.common import exceptions
from nubis.image.core import records

UUID_PATTERN = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
# min_ram, min_disk: INTEGER columns, 32-bit signed on every backend.
MAX_INT = 2**31 - 1
# Image ids: VARCHAR(36) columns.
MAX_ID = 36
# Names of custom properties, tags and member ids: VARCHAR(255) columns.
MAX_NAME = 255
# Custom property values are TEXT: at most 65,535 bytes on MySQL/MariaDB.
MAX_VALUE_BYTES = 65535
# An id, tag or member id in a path longer than its column, or with control characters, names nothing.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The schema names read-only fields; every other field the body or a patch sets must be one of these.
WRITABLE = ("name", "visibility", "protected", "os_hidden", "min_disk", "min_ram", "disk_format", "container_format",
            "owner", "tags")

_READ_ONLY_STRING = {"type": ["null", "string"], "readOnly": True}

PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "description": "An identifier for the image", "pattern": UUID_PATTERN},
    "name": {"type": ["null", "string"], "maxLength": 255, "description": "Descriptive name for the image"},
    "status": {"type": "string", "readOnly": True, "enum": list(records.STATUSES)},
    "visibility": {"type": "string", "enum": list(records.VISIBILITIES)},
    "protected": {"type": "boolean"},
    "os_hidden": {"type": "boolean"},
    "checksum": {**_READ_ONLY_STRING, "maxLength": 32},
    "os_hash_algo": {**_READ_ONLY_STRING, "maxLength": 64},
    "os_hash_value": {**_READ_ONLY_STRING, "maxLength": 128},
    "owner": {"type": ["null", "string"], "maxLength": 255},
    "size": {"type": ["null", "integer"], "readOnly": True},
    "virtual_size": {"type": ["null", "integer"], "readOnly": True},
    "container_format": {"type": ["null", "string"], "enum": [None, *records.CONTAINER_FORMATS]},
    "disk_format": {"type": ["null", "string"], "enum": [None, *records.DISK_FORMATS]},
    "created_at": {"type": "string", "readOnly": True},
    "updated_at": {"type": "string", "readOnly": True},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
    "direct_url": {"type": "string", "readOnly": True},
    "stores": {"type": "string", "readOnly": True,
               "description": "The stores holding the image's data, comma-separated (GET /v2/info/stores)"},
    "min_ram": {"type": "integer"},
    "min_disk": {"type": "integer"},
    "self": {"type": "string", "readOnly": True},
    "file": {"type": "string", "readOnly": True},
    "schema": {"type": "string", "readOnly": True},
    "locations": {"type": "array", "items": {"type": "object"}},
}


def _write_schema() -> dict[str, Any]:
    props = copy.deepcopy(PROPERTIES)
    for name in ("min_ram", "min_disk"):
        props[name].update(minimum=0, maximum=MAX_INT)
    return {"type": "object", "properties": props,
            "propertyNames": {"minLength": 1, "maxLength": MAX_NAME},
            "additionalProperties": {"type": "string"}}


WRITE_SCHEMA = _write_schema()


def _nul_in(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_nul_in(v) for v in value)
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    return False


def check_stored_values(body: dict[str, Any]) -> None:
    """What the schema cannot say: no NUL characters (PostgreSQL refuses them), custom values fit a TEXT column.

    :raises BadRequest: naming the field.
    """
    for name, value in body.items():
        if _nul_in(name) or _nul_in(value):
            raise exceptions.BadRequest(f"Provided object does not match schema 'image': {name!r}: "
                                        "NUL characters are not allowed.")
        if name in ("min_ram", "min_disk") and type(value) is not int:  # JSON Schema counts 1.0 as an integer
            raise exceptions.BadRequest(f"Provided object does not match schema 'image': {name}: {value!r} is not "
                                        "an integer.")
        if name not in PROPERTIES and isinstance(value, str) and len(value.encode()) > MAX_VALUE_BYTES:
            raise exceptions.BadRequest(f"Provided object does not match schema 'image': the value of {name!r} is "
                                        f"longer than {MAX_VALUE_BYTES} bytes.")


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def path_names_nothing(value: str, max_length: int) -> bool:
    """Whether a path parameter cannot name any stored row (too long for its column, or control characters)."""
    return len(value) > max_length or has_control_chars(value)
