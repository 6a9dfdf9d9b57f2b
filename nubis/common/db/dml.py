"""What an UPDATE or DELETE did, typed."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through ``Session.execute`` matched.

    For those statements SQLAlchemy returns a ``CursorResult``, though it types
    ``Session.execute`` as returning a plain ``Result`` (which has no row count).
    """
    return cast(sa.CursorResult[Any], result).rowcount
