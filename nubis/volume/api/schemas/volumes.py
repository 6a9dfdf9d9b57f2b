"""Volume bodies: create, update, metadata, actions."""

from __future__ import annotations

from typing import Any

from nubis.volume.api.schemas import DESCRIPTION, METADATA, NAME, SIZE, UUID
from nubis.volume.image_formats import IMAGE_FORMATS

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {"volume": {
        "type": "object",
        "properties": {
            "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION,
            "size": {"anyOf": [SIZE, {"type": "null"}]},
            "volume_type": {"type": ["string", "null"], "maxLength": 255},
            "availability_zone": {"type": ["string", "null"], "maxLength": 255},
            "snapshot_id": {"anyOf": [UUID, {"type": "null"}]},
            "metadata": {"anyOf": [METADATA, {"type": "null"}]},
            # Accepted as Cinder does, not yet supported: refused by the handler with a clear 400.
            "source_volid": {"anyOf": [UUID, {"type": "null"}]},
            "imageRef": {"type": ["string", "null"]},
            "backup_id": {"type": ["string", "null"]},
            "consistencygroup_id": {"type": ["string", "null"]},
            "group_id": {"type": ["string", "null"]},
            "multiattach": {"type": "boolean"},
        },
        "additionalProperties": False,
    }},
    "required": ["volume"],
    "additionalProperties": False,
}

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"volume": {
        "type": "object",
        "properties": {"name": NAME, "description": DESCRIPTION, "display_name": NAME,
                       "display_description": DESCRIPTION, "metadata": METADATA},
        "additionalProperties": False,
    }},
    "required": ["volume"],
    "additionalProperties": False,
}

METADATA_BODY: dict[str, Any] = {
    "type": "object", "properties": {"metadata": METADATA}, "required": ["metadata"], "additionalProperties": False,
}

META_ITEM: dict[str, Any] = {
    "type": "object", "properties": {"meta": {**METADATA, "minProperties": 1, "maxProperties": 1}},
    "required": ["meta"], "additionalProperties": False,
}

_EMPTY: dict[str, Any] = {"type": ["object", "null"], "additionalProperties": False}
_BOOL_TEXT: dict[str, Any] = {"anyOf": [{"type": "boolean"},
                                        {"type": "string", "enum": ["true", "false", "True", "False", "1", "0"]}]}

ACTIONS: dict[str, dict[str, Any]] = {
    "os-extend": {"type": "object", "properties": {"new_size": SIZE}, "required": ["new_size"],
                  "additionalProperties": False},
    "os-reserve": _EMPTY,
    "os-initialize_connection": {"type": "object", "properties": {"connector": {"type": "object", "maxProperties": 64}},
                                 "required": ["connector"], "additionalProperties": False},
    "os-terminate_connection": {"type": "object", "properties": {"connector": {"type": "object", "maxProperties": 64}},
                                "required": ["connector"], "additionalProperties": False},
    "os-unreserve": _EMPTY,
    "os-begin_detaching": _EMPTY,
    "os-roll_detaching": _EMPTY,
    "os-attach": {"type": "object", "properties": {
        "instance_uuid": UUID, "host_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "mountpoint": {"type": "string", "minLength": 1, "maxLength": 255},
        "mode": {"type": "string", "enum": ["rw", "ro"]}},
        "required": ["mountpoint"], "additionalProperties": False},
    "os-detach": {"type": ["object", "null"], "properties": {"attachment_id": {"anyOf": [UUID, {"type": "null"}]}},
                  "additionalProperties": False},
    "os-set_bootable": {"type": "object", "properties": {"bootable": _BOOL_TEXT}, "required": ["bootable"],
                        "additionalProperties": False},
    "os-update_readonly_flag": {"type": "object", "properties": {"readonly": _BOOL_TEXT}, "required": ["readonly"],
                                "additionalProperties": False},
    "os-force_delete": _EMPTY,
    "os-force_detach": {"type": ["object", "null"], "properties": {
        "attachment_id": {"anyOf": [UUID, {"type": "null"}]},
        "connector": {"type": ["object", "null"], "maxProperties": 64}},
        "additionalProperties": False},
    "os-set_image_metadata": {"type": "object", "properties": {"metadata": METADATA}, "required": ["metadata"],
                              "additionalProperties": False},
    "os-unset_image_metadata": {"type": "object",
                                "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 255}},
                                "required": ["key"], "additionalProperties": False},
    "os-show_image_metadata": _EMPTY,
    "os-retype": {"type": "object", "properties": {
        "new_type": {"type": "string", "minLength": 1, "maxLength": 255},
        "migration_policy": {"type": ["string", "null"], "enum": ["never", "on-demand", None]}},
        "required": ["new_type"], "additionalProperties": False},
    "os-volume_upload_image": {"type": "object", "properties": {
        "image_name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
        "force": _BOOL_TEXT,
        "disk_format": {"type": "string", "enum": sorted(IMAGE_FORMATS)},
        "container_format": {"type": "string", "enum": ["bare"]},
        # 3.1 (ignored before, as Cinder does)
        "visibility": {"type": "string", "enum": ["public", "private", "shared", "community"]},
        "protected": _BOOL_TEXT},
        "required": ["image_name"], "additionalProperties": False},
    "os-reset_status": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["available", "error", "creating", "deleting", "in-use", "attaching",
                                              "detaching", "error_deleting", "error_extending", "maintenance",
                                              "reserved"]},
        "attach_status": {"type": "string", "enum": ["attached", "detached"]},
        "migration_status": {"type": ["string", "null"]}},
        "additionalProperties": False},
}
