"""Keypair create bodies, per microversion, as Nova defines them.

Only the set of fields is checked here (Nova refuses unknown ones); the core checks each field's value.
"""

from __future__ import annotations

from nubis.api.microversion import Version
from nubis.compute.api.schemas import Schema, Versioned, extend

_CREATE_21: Schema = {
    "type": "object",
    "properties": {"keypair": {"type": "object", "properties": {"name": {}, "public_key": {}},
                               "required": ["name"], "additionalProperties": False}},
    "required": ["keypair"],
    "additionalProperties": False,
}
_CREATE_22 = extend(_CREATE_21, ("keypair",), type={})
CREATE: Versioned = [(Version(2, 1), _CREATE_21), (Version(2, 2), _CREATE_22),
                     (Version(2, 10), extend(_CREATE_22, ("keypair",), user_id={}))]
