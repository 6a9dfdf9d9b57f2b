"""Image updates in the two JSON-patch dialects of Image v2.

``application/openstack-images-v2.1-json-patch`` writes an operation as
``{"op": "replace", "path": "/name", "value": ...}`` (JSON patch draft 10);
``application/openstack-images-v2.0-json-patch`` as
``{"replace": "/name", "value": ...}`` (draft 4). Both become ``Change``s.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from nubis.common import exceptions
from nubis.image.core import records

DRAFT_10 = "application/openstack-images-v2.1-json-patch"
DRAFT_4 = "application/openstack-images-v2.0-json-patch"
MEDIA_TYPES = (DRAFT_10, DRAFT_4)
OPERATIONS = ("add", "remove", "replace")
MUTABLE_CORE = {"name", "visibility", "protected", "os_hidden", "min_disk", "min_ram", "disk_format",
                "container_format", "owner", "tags"}


@dataclasses.dataclass(frozen=True)
class Change:
    """One operation on one attribute (``value`` is None for ``remove``)."""

    op: str
    name: str
    value: Any = None


def _operation(raw: dict[str, Any], media_type: str) -> tuple[str, Any]:
    if media_type == DRAFT_4:
        present = [key for key in OPERATIONS if key in raw]
        if len(present) != 1:
            raise exceptions.BadRequest('Operation objects must contain exactly one member named "add", "remove", '
                                        'or "replace".')
        return present[0], raw[present[0]]
    op = raw.get("op")
    if op not in OPERATIONS:
        raise exceptions.BadRequest(f"Invalid operation: {op!r}. It must be one of the following: "
                                    f"{', '.join(OPERATIONS)}.")
    if "path" not in raw:
        raise exceptions.BadRequest("Unable to find 'path' in JSON Schema change")
    return op, raw["path"]


def _attribute(pointer: Any) -> str:
    """The attribute a JSON pointer names; only one level (``/name``) exists on an image."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise exceptions.BadRequest(f"Pointer {pointer!r} does not start with \"/\".")
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise exceptions.BadRequest(f"Pointer {pointer!r} contains \"~\" not part of a recognized escape sequence.")
    parts = pointer[1:].split("/")
    if len(parts) != 1 or not parts[0].strip():
        raise exceptions.BadRequest(f"Invalid JSON pointer for this resource: {pointer!r}")
    return parts[0].replace("~1", "/").replace("~0", "~")


def parse(body: Any, media_type: str) -> list[Change]:
    """The changes a PATCH body asks for, in the dialect ``media_type`` names.

    :raises BadRequest: a malformed operation or pointer, or a missing value.
    :raises Forbidden: a read-only or reserved attribute.
    """
    if not isinstance(body, list):
        raise exceptions.BadRequest("Request body must be a JSON array of operation objects.")
    changes = []
    for raw in body:
        if not isinstance(raw, dict):
            raise exceptions.BadRequest("Operations must be JSON objects.")
        op, pointer = _operation(raw, media_type)
        name = _attribute(pointer)
        if name in records.READ_ONLY:
            raise exceptions.Forbidden(f"Attribute '{name}' is read-only.")
        if name in records.RESERVED or name.startswith(records.RESERVED_PREFIX):
            raise exceptions.Forbidden(f"Attribute '{name}' is reserved.")
        if op == "remove":
            changes.append(Change(op, name))
            continue
        if "value" not in raw:
            raise exceptions.BadRequest(f'Operation "{op}" requires a member named "value".')
        changes.append(Change(op, name, raw["value"]))
    return changes


def apply(current: dict[str, Any], changes: list[Change], check: Callable[[str, Any], None]) -> dict[str, Any]:
    """The image body after ``changes``; ``check(attribute, new value)`` authorises each change.

    :raises Forbidden: removing a core attribute.
    :raises Conflict: replacing or removing a custom property that does not exist.
    """
    result = dict(current)
    for change in changes:
        name = change.name
        if change.op == "remove":
            if name in MUTABLE_CORE:
                raise exceptions.Forbidden(f"Attribute '{name}' cannot be removed.")
            if name not in result:
                raise exceptions.Conflict(f"Property {name} does not exist.")
            check(name, None)
            del result[name]
            continue
        if change.op == "replace" and name not in result and name not in MUTABLE_CORE:
            raise exceptions.Conflict(f"Property {name} does not exist.")
        check(name, change.value)
        result[name] = change.value
    return result
