"""Backup bodies (Cinder v3's): create (metadata from 3.43), update (3.9; metadata from 3.43), restore, the
admin actions, import_record."""

from __future__ import annotations

import copy
from typing import Any

from nubis.volume.api.schemas import DESCRIPTION, METADATA, NAME, UUID

BOOLEAN: dict[str, Any] = {"anyOf": [{"type": "boolean"},
                                     {"type": "string", "enum": ["true", "false", "True", "False", "1", "0",
                                                                 "yes", "no", "on", "off"]}]}

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {"backup": {
        "type": "object",
        "properties": {"volume_id": UUID, "container": {"type": ["string", "null"], "maxLength": 255},
                       "name": NAME, "description": DESCRIPTION, "incremental": BOOLEAN, "force": BOOLEAN,
                       "snapshot_id": {"anyOf": [UUID, {"type": "null"}]}},
        "required": ["volume_id"],
        "additionalProperties": False,
    }},
    "required": ["backup"],
    "additionalProperties": False,
}
CREATE_V343 = copy.deepcopy(CREATE)
CREATE_V343["properties"]["backup"]["properties"]["metadata"] = {"anyOf": [METADATA, {"type": "null"}]}

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"backup": {
        "type": ["object", "null"],
        "properties": {"name": NAME, "description": DESCRIPTION},
        "additionalProperties": False,
    }},
    "required": ["backup"],
    "additionalProperties": False,
}
UPDATE_V343 = copy.deepcopy(UPDATE)
UPDATE_V343["properties"]["backup"]["properties"]["metadata"] = METADATA

RESTORE: dict[str, Any] = {
    "type": "object",
    "properties": {"restore": {
        "type": ["object", "null"],
        "properties": {"name": NAME, "volume_id": {"anyOf": [UUID, {"type": "null"}]}},
        "additionalProperties": False,
    }},
    "required": ["restore"],
    "additionalProperties": False,
}

ACTIONS: dict[str, dict[str, Any]] = {
    "os-reset_status": {"type": "object", "properties": {"status": {"type": "string", "minLength": 1,
                                                                     "maxLength": 30}},
                        "required": ["status"], "additionalProperties": False},
    "os-force_delete": {"type": ["object", "null"], "additionalProperties": False},
}

IMPORT: dict[str, Any] = {
    "type": "object",
    "properties": {"backup-record": {
        "type": "object",
        "properties": {"backup_service": {"type": "string", "minLength": 1, "maxLength": 255},
                       "backup_url": {"type": "string", "minLength": 1, "maxLength": 65535}},
        "required": ["backup_service", "backup_url"],
        "additionalProperties": False,
    }},
    "required": ["backup-record"],
    "additionalProperties": False,
}
