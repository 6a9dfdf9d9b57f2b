"""Image updates in the JSON-patch dialect of Image v2 (application/openstack-images-v2.1-json-patch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nubis.common import exceptions
from nubis.image.core import records

MEDIA_TYPES = ("application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch")
MUTABLE_CORE = {"name", "visibility", "protected", "os_hidden", "min_disk", "min_ram", "disk_format",
                "container_format", "owner", "tags"}


def _path(op: dict[str, Any]) -> str:
    path = op.get("path")
    if not isinstance(path, str) or not path.startswith("/") or path.count("/") != 1 and "~1" not in path:
        raise exceptions.BadRequest(f"Invalid JSON pointer for this resource: {path!r}")
    return path[1:].replace("~1", "/").replace("~0", "~")


def apply(current: dict[str, Any], ops: Any, check: Callable[[str, Any], None]) -> dict[str, Any]:
    """The image body after ``ops``; ``check(attribute, new value)`` authorises each change."""
    if not isinstance(ops, list):
        raise exceptions.BadRequest("The request body must be a JSON array of patch operations.")
    result = dict(current)
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
            raise exceptions.BadRequest(f"Invalid patch operation {op!r}: op must be add, replace or remove.")
        name = _path(op)
        if not name:
            raise exceptions.BadRequest("The path must name an attribute.")
        if name in records.READ_ONLY:
            raise exceptions.Forbidden(f"Attribute '{name}' is read-only.")
        if name.startswith(records.RESERVED_PREFIX):
            raise exceptions.Forbidden(f"Attribute '{name}' is reserved.")
        kind = op["op"]
        if kind == "remove":
            if name in MUTABLE_CORE:
                raise exceptions.Forbidden(f"Attribute '{name}' cannot be removed.")
            if name not in result:
                raise exceptions.Conflict(f"Property {name} does not exist.")
            check(name, None)
            del result[name]
            continue
        if "value" not in op:
            raise exceptions.BadRequest(f"Operation {kind} on {name} needs a value.")
        if kind == "replace" and name not in result and name not in MUTABLE_CORE:
            raise exceptions.Conflict(f"Property {name} does not exist.")
        check(name, op["value"])
        result[name] = op["value"]
    return result
