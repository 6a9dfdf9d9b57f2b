"""The one parser of the timestamps clients send to the compute API (``changes-since``, ``start`` ...)."""

from __future__ import annotations

import datetime

from nubis.common import exceptions

# Longer than any ISO 8601 date-time with microseconds and an offset: refused before parsing.
_MAX_LENGTH = 64


def parse(text: str, field: str) -> datetime.datetime:
    """``text`` (ISO 8601: ``2026-11-01T10:00:00``, with optional fraction, ``Z`` or ``+hh:mm``) as naive UTC.

    The database stores naive UTC, so an offset is converted, not dropped; no offset means UTC (as Nova reads it).
    :raises BadRequest: naming ``field`` when ``text`` is not such a timestamp.
    """
    try:
        if len(text) > _MAX_LENGTH:
            raise ValueError(text)
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise exceptions.BadRequest(f"Invalid input for field/attribute {field}. {text[:_MAX_LENGTH]!r} is not an "
                                    "ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z.") from None
    return value.astimezone(datetime.UTC).replace(tzinfo=None) if value.tzinfo else value
