"""``os-volume_attachments`` bodies per microversion (Nova's): ``tag`` from 2.49, ``delete_on_termination``
from 2.79. ``device`` is accepted and treated as a hint, as Nova's libvirt driver does."""

from __future__ import annotations

from nubis.api.microversion import Version
from nubis.compute.api.schemas import BOOLEAN, TAG, UUID, Schema, Versioned, extend

_DEVICE: Schema = {"type": ["string", "null"], "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"}

_CREATE_21: Schema = {
    "type": "object",
    "properties": {"volumeAttachment": {
        "type": "object", "properties": {"volumeId": UUID, "device": _DEVICE},
        "required": ["volumeId"], "additionalProperties": False}},
    "required": ["volumeAttachment"],
    "additionalProperties": False,
}
_CREATE_249 = extend(_CREATE_21, ("volumeAttachment",), tag=TAG)
CREATE: Versioned = [(Version(2, 1), _CREATE_21), (Version(2, 49), _CREATE_249),
                     (Version(2, 79), extend(_CREATE_249, ("volumeAttachment",), delete_on_termination=BOOLEAN))]

# PUT (Nova's update): before 2.85 a swap, naming only the new volume; from 2.85 also the attachment's own
# fields, of which only delete_on_termination may change (the others must repeat what is there).
_UPDATE_21: Schema = {
    "type": "object",
    "properties": {"volumeAttachment": {
        "type": "object", "properties": {"volumeId": UUID},
        "required": ["volumeId"], "additionalProperties": False}},
    "required": ["volumeAttachment"],
    "additionalProperties": False,
}
_UPDATE_285 = extend(_UPDATE_21, ("volumeAttachment",), device=_DEVICE, tag=TAG, delete_on_termination=BOOLEAN,
                     serverId=UUID, id=UUID)
UPDATE: Versioned = [(Version(2, 1), _UPDATE_21), (Version(2, 85), _UPDATE_285)]

# The /os-volumes and /os-snapshots proxies' create bodies (Nova's volumes schema).
_SIZE: Schema = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1}
PROXY_VOLUME: Schema = {
    "type": "object",
    "properties": {"volume": {
        "type": "object",
        "properties": {"volume_type": {"type": ["string", "null"]}, "metadata": {"type": "object"},
                       "snapshot_id": {"type": ["string", "null"]}, "size": _SIZE,
                       "availability_zone": {"type": ["string", "null"]},
                       "display_name": {"type": ["string", "null"], "maxLength": 255},
                       "display_description": {"type": ["string", "null"], "maxLength": 255}},
        "required": ["size"], "additionalProperties": False}},
    "required": ["volume"],
    "additionalProperties": False,
}
PROXY_SNAPSHOT: Schema = {
    "type": "object",
    "properties": {"snapshot": {
        "type": "object",
        "properties": {"volume_id": {"type": "string"}, "force": BOOLEAN,
                       "display_name": {"type": ["string", "null"], "maxLength": 255},
                       "display_description": {"type": ["string", "null"], "maxLength": 255}},
        "required": ["volume_id"], "additionalProperties": False}},
    "required": ["snapshot"],
    "additionalProperties": False,
}
