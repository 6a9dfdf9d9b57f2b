"""The body of ``POST /os-server-external-events``, per microversion (which event names exist), as Nova's."""

from __future__ import annotations

from nubis.api.microversion import Version
from nubis.compute.api.schemas import UUID, Schema, Versioned


def _body(names: list[str]) -> Schema:
    event = {"type": "object", "properties": {
        "server_uuid": UUID, "name": {"type": "string", "enum": names},
        "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
        "tag": {"type": "string", "maxLength": 255}},
        "required": ["server_uuid", "name"], "additionalProperties": False}
    return {"type": "object", "properties": {"events": {"type": "array", "minItems": 1, "items": event}},
            "required": ["events"], "additionalProperties": False}


_NAMES_21 = ["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"]
CREATE: Versioned = [
    (Version(2, 1), _body(_NAMES_21)),
    (Version(2, 51), _body([*_NAMES_21, "volume-extended"])),
    (Version(2, 76), _body([*_NAMES_21, "volume-extended", "power-update"])),
    (Version(2, 82), _body([*_NAMES_21, "volume-extended", "power-update", "accelerator-request-bound"])),
]
