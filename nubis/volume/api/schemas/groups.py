"""Group type, group and group snapshot bodies (Cinder v3's generic volume groups)."""

from __future__ import annotations

from typing import Any

from nubis.volume.api.schemas import DESCRIPTION, NAME
from nubis.volume.api.schemas.types import SPECS

_TYPE_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}
# Cinder's boolean parameters: true/false, or their usual spellings as strings.
BOOLEAN: dict[str, Any] = {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": [
    "true", "false", "True", "False", "TRUE", "FALSE", "1", "0", "yes", "no", "on", "off", "y", "n", "t", "f"]}]}
_REF: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
_ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 36}
# add_volumes / remove_volumes: volume ids separated by commas.
_VOLUME_LIST: dict[str, Any] = {"type": ["string", "null"], "maxLength": 65535}
_STATUS: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}


def _one(key: str, properties: dict[str, Any], required: list[str] | None = None,
         min_properties: int = 0) -> dict[str, Any]:
    inner: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        inner["required"] = required
    if min_properties:
        inner["minProperties"] = min_properties
    return {"type": "object", "properties": {key: inner}, "required": [key], "additionalProperties": False}


CREATE_TYPE = _one("group_type", {"name": _TYPE_NAME, "description": DESCRIPTION, "is_public": BOOLEAN,
                                  "group_specs": SPECS}, ["name"])
UPDATE_TYPE = _one("group_type", {"name": {**_TYPE_NAME, "type": ["string", "null"]}, "description": DESCRIPTION,
                                  "is_public": {"anyOf": [BOOLEAN, {"type": "null"}]}}, min_properties=1)
GROUP_SPECS: dict[str, Any] = {
    "type": "object", "properties": {"group_specs": SPECS}, "required": ["group_specs"],
    "additionalProperties": False,
}
ONE_SPEC: dict[str, Any] = {**SPECS, "minProperties": 1, "maxProperties": 1}

CREATE_GROUP = _one("group", {
    "group_type": _REF,
    "volume_types": {"type": "array", "items": _REF, "minItems": 1, "maxItems": 128},
    "name": NAME, "description": DESCRIPTION,
    "availability_zone": {"type": ["string", "null"], "maxLength": 255},
}, ["group_type", "volume_types"])
CREATE_FROM_SOURCE = _one("create-from-src", {
    "name": NAME, "description": DESCRIPTION,
    "group_snapshot_id": {"anyOf": [_ID, {"type": "null"}]},
    "source_group_id": {"anyOf": [_ID, {"type": "null"}]},
})
UPDATE_GROUP = _one("group", {"name": NAME, "description": DESCRIPTION, "add_volumes": _VOLUME_LIST,
                              "remove_volumes": _VOLUME_LIST})
# POST /groups/{id}/action: each action's argument.
GROUP_ACTIONS: dict[str, dict[str, Any]] = {
    "delete": {"type": "object", "properties": {"delete-volumes": BOOLEAN}, "additionalProperties": False},
    "reset_status": {"type": "object", "properties": {"status": _STATUS}, "required": ["status"],
                     "additionalProperties": False},
}

CREATE_GROUP_SNAPSHOT = _one("group_snapshot", {"group_id": _ID, "name": NAME, "description": DESCRIPTION},
                             ["group_id"])
GROUP_SNAPSHOT_ACTIONS: dict[str, dict[str, Any]] = {"reset_status": GROUP_ACTIONS["reset_status"]}
