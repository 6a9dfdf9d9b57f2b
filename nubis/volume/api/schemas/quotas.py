"""Quota set bodies."""

from __future__ import annotations

from typing import Any

from nubis.volume.core.quotas import PER_VOLUME, RESOURCES, TYPED

_LIMIT: dict[str, Any] = {"type": "integer", "minimum": -1, "maximum": 2 ** 31 - 1}
# Shown with the quotas (the API's FIXED) and so sent back by clients that restore what they read.
_SHOWN = ("backups", "backup_gigabytes", "groups", PER_VOLUME)
# A volume type's quotas (``volumes_<type name>`` ...): the API checks that the type exists.
_TYPED: dict[str, Any] = {f"^({'|'.join(TYPED)})_.+$": _LIMIT}

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"quota_set": {
        "type": "object",
        "properties": {**{r: _LIMIT for r in (*RESOURCES, *_SHOWN)}, "tenant_id": {"type": "string"}},
        "patternProperties": _TYPED,
        "additionalProperties": False,
    }},
    "required": ["quota_set"],
    "additionalProperties": False,
}

UPDATE_CLASS: dict[str, Any] = {
    "type": "object",
    "properties": {"quota_class_set": {
        "type": "object",
        "properties": {r: _LIMIT for r in (*RESOURCES, *_SHOWN)},
        "patternProperties": _TYPED,
        "additionalProperties": False,
    }},
    "required": ["quota_class_set"],
    "additionalProperties": False,
}

_HOST: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
_SERVICE: dict[str, Any] = {"type": "object", "properties": {
    "host": _HOST, "binary": _HOST, "service": _HOST, "cluster": {"type": ["string", "null"]}},
    "required": ["host"], "additionalProperties": False}
# PUT /os-services/{action}: each action's body.
SERVICE_ACTIONS: dict[str, dict[str, Any]] = {
    "enable": _SERVICE,
    "disable": _SERVICE,
    "disable-log-reason": {**_SERVICE, "properties": {**_SERVICE["properties"],
                                                      "disabled_reason": {"type": ["string", "null"],
                                                                          "maxLength": 255}}},
    "freeze": {"type": "object", "properties": {"host": _HOST}, "required": ["host"], "additionalProperties": False},
    "thaw": {"type": "object", "properties": {"host": _HOST}, "required": ["host"], "additionalProperties": False},
}
