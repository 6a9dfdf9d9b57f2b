"""Volume transfer bodies (Cinder v3's): create (``no_snapshots`` from 3.55), accept."""

from __future__ import annotations

import copy
from typing import Any

from nubis.volume.api.schemas import NAME, UUID
from nubis.volume.api.schemas.backups import BOOLEAN

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {"transfer": {
        "type": "object",
        "properties": {"volume_id": UUID, "name": NAME},
        "required": ["volume_id"],
        "additionalProperties": False,
    }},
    "required": ["transfer"],
    "additionalProperties": False,
}
CREATE_V355 = copy.deepcopy(CREATE)
CREATE_V355["properties"]["transfer"]["properties"]["no_snapshots"] = BOOLEAN

ACCEPT: dict[str, Any] = {
    "type": "object",
    "properties": {"accept": {
        "type": "object",
        "properties": {"auth_key": {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 255},
                                              {"type": "integer"}]}},
        "required": ["auth_key"],
        "additionalProperties": False,
    }},
    "required": ["accept"],
    "additionalProperties": False,
}
