"""Server group bodies: ``policies`` (a list of one) before 2.64, ``policy`` + ``rules`` from 2.64."""

from __future__ import annotations

from nubis.api.microversion import Version
from nubis.compute.api.schemas import NAME, Schema, Versioned, integer

_POLICIES = ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"]

_CREATE_21: Schema = {"type": "object", "properties": {"server_group": {
    "type": "object", "properties": {
        "name": NAME,
        "policies": {"type": "array", "items": {"type": "string", "enum": _POLICIES}, "minItems": 1,
                     "maxItems": 1}},
    "required": ["name", "policies"], "additionalProperties": False}},
    "required": ["server_group"], "additionalProperties": False}
_CREATE_264: Schema = {"type": "object", "properties": {"server_group": {
    "type": "object", "properties": {
        "name": NAME, "policy": {"type": "string", "enum": _POLICIES},
        "rules": {"type": "object", "properties": {"max_server_per_host": integer(1)},
                  "additionalProperties": False}},
    "required": ["name", "policy"], "additionalProperties": False}},
    "required": ["server_group"], "additionalProperties": False}
CREATE: Versioned = [(Version(2, 1), _CREATE_21), (Version(2, 64), _CREATE_264)]
