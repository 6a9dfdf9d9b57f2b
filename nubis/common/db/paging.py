"""Keyset pagination in SQL: one page of a sorted listing after a marker, and whether more follow.

The OpenStack listings page with ``limit`` and ``marker`` (the id of the last
item of the previous page). Rather than reading every row and slicing in
Python, the page is cut by the database:

    WHERE (sort columns) come after (the marker's values) ORDER BY ... LIMIT n + 1

written as an OR-chain so mixed ascending/descending keys work on every
backend. The extra row says whether a next page exists. A unique tiebreak
column ends the order, so rows that tie on every sort key are neither
repeated nor skipped across pages.

NULLs sort first ascending and last descending on every backend (PostgreSQL
alone would put them the other way round), so the same listing pages the same
on SQLite, MariaDB and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class SortKey:
    """One ``ORDER BY`` key: a column (or column expression) and its direction."""

    column: Any  # a mapped attribute or column expression
    descending: bool = False


@dataclasses.dataclass
class Page(Generic[T]):
    """The rows of one page, and whether rows follow it (then the caller links to a next page)."""

    rows: list[T]
    more: bool


@dataclasses.dataclass(frozen=True)
class _Part:
    """One compared component of the keyset: ``expr`` in ``descending`` order."""

    expr: Any
    descending: bool


def _nullable(column: Any) -> bool:
    return bool(getattr(getattr(column, "expression", column), "nullable", True))


def _parts(keys: Sequence[SortKey]) -> list[_Part]:
    parts = []
    for key in keys:
        if _nullable(key.column):
            # 0 for NULL, 1 otherwise: NULLs first ascending, last descending, whatever the backend's habit.
            parts.append(_Part(sa.case((key.column.is_(None), 0), else_=1), key.descending))
        parts.append(_Part(key.column, key.descending))
    return parts


def _after(parts: Sequence[_Part], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """Rows strictly after the row whose keyset is ``values`` in the order of ``parts``."""
    alternatives = []
    same_so_far: list[sa.ColumnElement[bool]] = []
    for part, value in zip(parts, values, strict=True):
        if value is None:  # a NULL sort value: its rank already placed the row; equal only to NULL
            same_so_far.append(part.expr.is_(None))
            continue
        beyond = part.expr < value if part.descending else part.expr > value
        alternatives.append(sa.and_(*same_so_far, beyond))
        same_so_far.append(part.expr == value)
    return sa.or_(sa.false(), *alternatives)


def paginate(
    session: orm.Session,
    query: sa.Select[Any],
    keys: Sequence[SortKey],
    tiebreak: SortKey,
    limit: int,
    max_limit: int,
    marker: Any | None,
    unknown_marker: Callable[[Any], Exception],
    offset: int = 0,
) -> Page[Any]:
    """One page of ``query`` (a select of one entity or column), sorted by ``keys`` then ``tiebreak``.

    ``tiebreak`` must be unique (the id the API uses as marker). ``limit`` (>= 0) is cut to ``max_limit``.
    ``marker`` is a ``tiebreak`` value: the page starts after that row, which must be in ``query``'s
    results, else ``unknown_marker(marker)`` is raised (each API chooses its answer: 400 for Glance
    and Nova). ``offset`` rows (after the marker, if any) are skipped first (Cinder's ``offset``). Runs at
    most two statements, each reading at most ``limit + 1`` rows past the offset.
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    limit = min(limit, max_limit)
    parts = _parts([*keys, tiebreak])
    query = query.order_by(None).order_by(*(p.expr.desc() if p.descending else p.expr.asc() for p in parts))
    if marker is not None:
        found = session.execute(
            query.with_only_columns(*(p.expr for p in parts)).where(tiebreak.column == marker).limit(1)).first()
        if found is None:
            raise unknown_marker(marker)
        query = query.where(_after(parts, tuple(found)))
    if limit == 0:
        return Page([], False)
    rows = list(session.scalars(query.offset(offset or None).limit(limit + 1)))
    return Page(rows[:limit], len(rows) > limit)
