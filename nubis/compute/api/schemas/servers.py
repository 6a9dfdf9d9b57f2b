"""Server bodies (create, update, rebuild and the actions' arguments), per microversion, as Nova defines them."""

from __future__ import annotations

from nubis.api.microversion import Version
from nubis.compute.api.schemas import (
    BOOLEAN,
    DESCRIPTION,
    MAX_TAGS,
    METADATA,
    NAME,
    TAG,
    UUID,
    Schema,
    Versioned,
    extend,
    integer,
)

# One request builds at most this many servers (the quota usually stops it much earlier).
MAX_COUNT = 1000

# Listing filters that exist only from the microversion that added them (ignored before it, as Nova ignores
# unknown filters).
LATER_FILTERS: dict[str, Version] = {"changes-before": Version(2, 66)}

_DISK_CONFIG: Schema = {"type": "string", "enum": ["AUTO", "MANUAL"]}
# Nova's accessIPv4/accessIPv6: an address of that version (400 otherwise).
_ACCESS_IP4: Schema = {"type": "string", "format": "ipv4"}
_ACCESS_IP6: Schema = {"type": "string", "format": "ipv6"}
_ADMIN_PASS: Schema = {"type": "string"}
_PERSONALITY: Schema = {"type": "array", "items": {"type": "object", "properties": {
    "path": {"type": "string"}, "contents": {"type": "string", "format": "base64"}},
    "additionalProperties": False}}
_USER_DATA: Schema = {"type": "string", "maxLength": 65535}
_HOSTNAME: Schema = {"type": "string", "minLength": 2, "maxLength": 63,
                     "pattern": r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$"}
_FQDN: Schema = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[a-zA-Z0-9.-]+$"}
_TRUSTED_CERTS: Schema = {"type": ["array", "null"], "minItems": 1, "maxItems": 50, "uniqueItems": True,
                          "items": {"type": "string", "minLength": 1}}
_SHORT_STRING: Schema = {"type": "string", "maxLength": 255}

_LEGACY_BDM: Schema = {"type": "object", "properties": {
    "virtual_name": _SHORT_STRING, "volume_id": UUID, "snapshot_id": UUID, "volume_size": integer(1),
    "device_name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9._/-]*$"},
    "delete_on_termination": BOOLEAN, "no_device": {}, "connection_info": {"type": "string"}},
    "additionalProperties": False}
_BDM_V2: Schema = {"type": "object", "properties": {
    **_LEGACY_BDM["properties"],
    "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
    "uuid": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9._-]*$"},
    "image_id": UUID, "destination_type": {"type": "string", "enum": ["local", "volume"]},
    "guest_format": _SHORT_STRING, "device_type": _SHORT_STRING, "disk_bus": _SHORT_STRING,
    "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"}},
    "additionalProperties": False}

_NETWORK: Schema = {"type": "object", "properties": {
    "fixed_ip": {"type": "string"}, "port": {"oneOf": [UUID, {"type": "null"}]}, "uuid": {"type": "string"}},
    "additionalProperties": False}
_HINTS: Schema = {"type": "object", "properties": {"group": UUID}, "additionalProperties": True}

_CREATE_21: Schema = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": NAME, "imageRef": {"type": "string"}, "flavorRef": {"type": ["string", "integer"],
                                                                          "minLength": 1},
                "adminPass": _ADMIN_PASS, "metadata": METADATA, "networks": {"type": "array", "items": _NETWORK},
                "OS-DCF:diskConfig": _DISK_CONFIG, "accessIPv4": _ACCESS_IP4, "accessIPv6": _ACCESS_IP6,
                "personality": _PERSONALITY, "availability_zone": NAME,
                "block_device_mapping": {"type": "array", "items": _LEGACY_BDM},
                "block_device_mapping_v2": {"type": "array", "items": _BDM_V2},
                "config_drive": BOOLEAN, "key_name": NAME,
                "min_count": integer(1, MAX_COUNT), "max_count": integer(1, MAX_COUNT),
                "return_reservation_id": BOOLEAN,
                "security_groups": {"type": "array", "items": {
                    "type": "object", "properties": {"name": NAME}, "additionalProperties": False}},
                "user_data": _USER_DATA,
            },
            "required": ["name", "flavorRef"],
            "additionalProperties": False,
        },
        "os:scheduler_hints": _HINTS,
        "OS-SCH-HNT:scheduler_hints": _HINTS,
    },
    "required": ["server"],
    "additionalProperties": False,
}
_S = ("server",)
_CREATE_219 = extend(_CREATE_21, _S, description=DESCRIPTION)
_NETWORK_TAGGED: Schema = extend(_NETWORK, (), tag=TAG)
_BDM_TAGGED: Schema = extend(_BDM_V2, (), tag=TAG)
_CREATE_232 = extend(_CREATE_219, _S, networks={"type": "array", "items": _NETWORK_TAGGED},
                     block_device_mapping_v2={"type": "array", "items": _BDM_TAGGED})
# 2.33 kept the network tag but lost the device tag (Nova's accident, kept for compatibility).
_CREATE_233 = extend(_CREATE_219, _S, networks={"type": "array", "items": _NETWORK_TAGGED})


def _networks(item: Schema) -> Schema:
    """2.37: networks is required, and is either "auto", "none" or a list whose uuids are UUIDs."""
    return {"oneOf": [{"type": "array", "items": extend(item, (), uuid=UUID)},
                      {"type": "string", "enum": ["none", "auto"]}]}


_CREATE_237 = extend(_CREATE_233, _S, networks=_networks(_NETWORK))
_CREATE_237["properties"]["server"]["required"].append("networks")
_CREATE_242 = extend(_CREATE_237, _S, networks=_networks(_NETWORK_TAGGED),
                     block_device_mapping_v2={"type": "array", "items": _BDM_TAGGED})
_CREATE_252 = extend(_CREATE_242, _S, tags={"type": "array", "items": TAG, "maxItems": MAX_TAGS})
_CREATE_257 = extend(_CREATE_252, _S, personality=None)
_CREATE_263 = extend(_CREATE_257, _S, trusted_image_certificates=_TRUSTED_CERTS)
_CREATE_267 = extend(_CREATE_263, _S, block_device_mapping_v2={"type": "array", "items": extend(
    _BDM_TAGGED, (), volume_type={"type": ["string", "null"], "minLength": 0, "maxLength": 255})})
_CREATE_274 = extend(_CREATE_267, _S, host=_FQDN, hypervisor_hostname=_FQDN)
_CREATE_290 = extend(_CREATE_274, _S, hostname=_HOSTNAME)

CREATE: Versioned = [(Version(2, 1), _CREATE_21), (Version(2, 19), _CREATE_219), (Version(2, 32), _CREATE_232),
                     (Version(2, 33), _CREATE_233), (Version(2, 37), _CREATE_237), (Version(2, 42), _CREATE_242),
                     (Version(2, 52), _CREATE_252), (Version(2, 57), _CREATE_257), (Version(2, 63), _CREATE_263),
                     (Version(2, 67), _CREATE_267), (Version(2, 74), _CREATE_274), (Version(2, 90), _CREATE_290)]

_UPDATE_21: Schema = {
    "type": "object",
    "properties": {"server": {"type": "object", "properties": {
        "name": NAME, "OS-DCF:diskConfig": _DISK_CONFIG, "accessIPv4": _ACCESS_IP4, "accessIPv6": _ACCESS_IP6},
        "additionalProperties": False}},
    "required": ["server"],
    "additionalProperties": False,
}
_UPDATE_219 = extend(_UPDATE_21, _S, description=DESCRIPTION)
UPDATE: Versioned = [(Version(2, 1), _UPDATE_21), (Version(2, 19), _UPDATE_219),
                     (Version(2, 90), extend(_UPDATE_219, _S, hostname=_HOSTNAME))]

# Action arguments: the schema of the value under the action's name.
_REBUILD_21: Schema = {"type": "object", "properties": {
    "name": NAME, "imageRef": {"type": "string", "minLength": 1}, "adminPass": _ADMIN_PASS, "metadata": METADATA,
    "preserve_ephemeral": BOOLEAN, "OS-DCF:diskConfig": _DISK_CONFIG, "accessIPv4": _ACCESS_IP4,
    "accessIPv6": _ACCESS_IP6, "personality": _PERSONALITY},
    "required": ["imageRef"], "additionalProperties": False}
_REBUILD_219 = extend(_REBUILD_21, (), description=DESCRIPTION)
_REBUILD_254 = extend(_REBUILD_219, (), key_name={"type": ["string", "null"], "minLength": 1, "maxLength": 255})
_REBUILD_257 = extend(_REBUILD_254, (), personality=None, user_data={"type": ["string", "null"],
                                                                     "maxLength": 65535})
_REBUILD_263 = extend(_REBUILD_257, (), trusted_image_certificates=_TRUSTED_CERTS)
REBUILD: Versioned = [(Version(2, 1), _REBUILD_21), (Version(2, 19), _REBUILD_219), (Version(2, 54), _REBUILD_254),
                      (Version(2, 57), _REBUILD_257), (Version(2, 63), _REBUILD_263),
                      (Version(2, 90), extend(_REBUILD_263, (), hostname=_HOSTNAME))]

RESIZE: Schema = {"type": "object", "properties": {"flavorRef": {"type": ["string", "integer"], "minLength": 1},
                                                   "OS-DCF:diskConfig": _DISK_CONFIG},
                  "required": ["flavorRef"], "additionalProperties": False}
REBOOT: Schema = {"type": "object", "properties": {"type": {
    "type": "string", "enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]}},
    "required": ["type"], "additionalProperties": False}
CREATE_IMAGE: Schema = {"type": "object", "properties": {"name": NAME, "metadata": METADATA},
                        "required": ["name"], "additionalProperties": False}

TAGS: Schema = {"type": "object", "properties": {"tags": {"type": "array", "items": TAG, "maxItems": MAX_TAGS}},
                "required": ["tags"], "additionalProperties": False}
