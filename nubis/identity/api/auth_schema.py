"""The shape of ``POST /v3/auth/tokens``, checked before any work starts.

Field types and bounds follow Keystone's own auth schema (ids up to 64
characters, names up to 255, passwords up to 4096): anything else is a 400
naming the field instead of an error deep inside authentication.
"""

from __future__ import annotations

from typing import Any

ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
SECRET: dict[str, Any] = {"type": "string", "maxLength": 4096}  # Keystone's max_password_length
DOMAIN_REF: dict[str, Any] = {"type": "object", "properties": {"id": ID, "name": NAME}}
USER_REF: dict[str, Any] = {"type": "object", "properties": {"id": ID, "name": NAME, "domain": DOMAIN_REF}}

IDENTITY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "methods": {"type": "array", "minItems": 1, "maxItems": 8,
                    "items": {"type": "string", "minLength": 1, "maxLength": 64}},
        "password": {"type": "object", "properties": {
            "user": {**USER_REF, "properties": {**USER_REF["properties"], "password": SECRET}}}},
        # Fernet tokens are about 200 characters; Keystone refuses anything over 255 (max_token_size).
        "token": {"type": "object", "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 1024}},
                  "required": ["id"]},
        "application_credential": {"type": "object", "properties": {
            "id": ID, "name": NAME, "secret": SECRET, "user": USER_REF}},
        # OS-OAUTH1: the proof is the request's OAuth signature; the object itself is empty.
        "oauth1": {"type": "object"},
    },
    "required": ["methods"],
}

SCOPE: dict[str, Any] = {
    "anyOf": [
        {"type": "null"},
        {"type": "string", "enum": ["unscoped"]},  # keystoneauth's explicit unscoped request
        {"type": "object", "properties": {
            "project": {"type": "object", "properties": {"id": ID, "name": NAME, "domain": DOMAIN_REF}},
            "domain": DOMAIN_REF,
            "system": {"type": "object", "properties": {"all": {"type": "boolean"}}},
            "OS-TRUST:trust": {"type": "object", "properties": {"id": ID}, "required": ["id"]},
        }},
    ],
}

AUTH_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {"auth": {"type": "object", "properties": {"identity": IDENTITY, "scope": SCOPE},
                            "required": ["identity"]}},
    "required": ["auth"],
}
