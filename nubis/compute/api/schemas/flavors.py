"""Flavor bodies (create, access actions, extra specs), per microversion, as Nova defines them."""

from __future__ import annotations

from nubis.api.microversion import Version
from nubis.compute.api.schemas import BOOLEAN, NAME, Schema, Versioned, extend, integer

_DESCRIPTION: Schema = {"type": ["string", "null"], "minLength": 0, "maxLength": 65535}

_CREATE_21: Schema = {
    "type": "object",
    "properties": {"flavor": {"type": "object", "properties": {
        "name": NAME,
        "id": {"type": ["string", "number", "null"], "minLength": 1, "maxLength": 255,
               "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
        "ram": integer(1), "vcpus": integer(1), "disk": integer(0),
        "OS-FLV-EXT-DATA:ephemeral": integer(0),
        "swap": {"oneOf": [integer(0)["oneOf"][0], {"type": "string", "pattern": "^[0-9]*$"}]},
        "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$", "minimum": 0,
                        "exclusiveMinimum": 0, "maximum": 3.40282e38},
        "os-flavor-access:is_public": BOOLEAN},
        "required": ["name", "ram", "vcpus", "disk"], "additionalProperties": False}},
    "required": ["flavor"],
    "additionalProperties": False,
}
CREATE: Versioned = [(Version(2, 1), _CREATE_21),
                     (Version(2, 55), extend(_CREATE_21, ("flavor",), description=_DESCRIPTION))]

# PUT /flavors/{flavor_id} (2.55): only the description may change.
UPDATE: Schema = {
    "type": "object",
    "properties": {"flavor": {"type": "object", "properties": {"description": _DESCRIPTION},
                              "required": ["description"], "additionalProperties": False}},
    "required": ["flavor"],
    "additionalProperties": False,
}

EXTRA_SPECS: Schema = {"type": "object", "properties": {"extra_specs": {
    "type": "object", "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {
        "type": ["string", "number", "boolean"], "maxLength": 255}},
    "additionalProperties": False}}, "required": ["extra_specs"], "additionalProperties": False}
EXTRA_SPEC_ITEM: Schema = {"type": "object", "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {
    "type": ["string", "number", "boolean"], "maxLength": 255}},
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False}

_TENANT: Schema = {"type": "object", "properties": {"tenant": {"type": "string", "minLength": 1,
                                                                "maxLength": 255}},
                   "required": ["tenant"], "additionalProperties": False}
ACCESS_ACTION: Schema = {"type": "object", "oneOf": [
    {"properties": {"addTenantAccess": _TENANT}, "required": ["addTenantAccess"], "additionalProperties": False},
    {"properties": {"removeTenantAccess": _TENANT}, "required": ["removeTenantAccess"],
     "additionalProperties": False}]}
