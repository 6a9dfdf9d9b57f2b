"""Compute services as ``os-services`` shows them, per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version


def service(record: dict[str, Any], version: Version) -> dict[str, Any]:
    """One service: an integer ``id`` before 2.53 (a UUID since), ``forced_down`` from 2.11."""
    body = {k: v for k, v in record.items() if k != "legacy_id"}
    if version < Version(2, 53):
        body["id"] = record["legacy_id"]
    if version < Version(2, 11):
        body.pop("forced_down", None)
    return body
