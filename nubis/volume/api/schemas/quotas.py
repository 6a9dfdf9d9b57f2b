"""Quota set bodies."""

from __future__ import annotations

from typing import Any

from nubis.volume.core.quotas import RESOURCES

_LIMIT: dict[str, Any] = {"type": "integer", "minimum": -1, "maximum": 2 ** 31 - 1}

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"quota_set": {
        "type": "object",
        "properties": {**{r: _LIMIT for r in RESOURCES}, "tenant_id": {"type": "string"}},
        "additionalProperties": False,
    }},
    "required": ["quota_set"],
    "additionalProperties": False,
}
