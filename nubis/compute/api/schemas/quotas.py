"""Quota set and quota class set bodies: every limit an integer from -1 (unlimited) to 2**31-1."""

from __future__ import annotations

from nubis.api.microversion import Version
from nubis.compute.api.schemas import BOOLEAN, MAX_INT, Schema, integer
from nubis.compute.api.views.quotas import legacy_shown
from nubis.compute.core.quotas import RESOURCES


def update(version: Version, wrapper: str) -> Schema:
    """The body of ``PUT /os-quota-sets/{id}`` (``wrapper`` "quota_set", with force) or of a quota class set."""
    limits = {name: integer(-1, MAX_INT) for name in (*RESOURCES, *legacy_shown(version))}
    if wrapper == "quota_set":
        limits["force"] = BOOLEAN
    return {"type": "object", "properties": {wrapper: {"type": "object", "properties": limits,
                                                       "additionalProperties": False}},
            "required": [wrapper], "additionalProperties": False}
