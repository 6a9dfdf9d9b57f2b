"""Rendering the volume core's dicts as Cinder v3 bodies, per microversion."""

from __future__ import annotations

import datetime


def timestamp(value: datetime.datetime | None) -> str | None:
    """Cinder's timestamps: ISO 8601 with microseconds, no zone."""
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") if value is not None else None
