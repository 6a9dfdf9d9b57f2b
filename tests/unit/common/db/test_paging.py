"""Keyset pages: concatenated they are the whole sorted listing, ties and NULLs included, on every backend."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import paging
from nubis.common.db.engine import Database


class Base(orm.DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "paging_items"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    size: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(16), nullable=False)


# Ties on every key, NULLs in both nullable keys: the cases a Python-side or naive SQL pager gets wrong.
ROWS = [(f"id-{i:02d}", name, size, kind) for i, (name, size, kind) in enumerate([
    ("b", 10, "x"), ("a", 10, "x"), (None, 10, "y"), ("a", None, "y"), ("b", 10, "x"), (None, None, "x"),
    ("c", 5, "y"), ("a", 10, "x"), ("c", None, "x"), (None, 5, "y"), ("b", 5, "y"), ("a", 10, "y"),
    ("b", 10, "y"), ("a", 5, "x"),
])]


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    Base.metadata.create_all(database.engine)
    with database.writer() as session:
        session.add_all(Item(id=i, name=n, size=s, kind=k) for i, n, s, k in ROWS)
    yield database
    database.dispose()


def _expected(keys: list[tuple[str, bool]]) -> list[str]:
    """The order the pager promises: NULLs first ascending, last descending; then id descending."""
    rows = [dict(zip(("id", "name", "size", "kind"), r, strict=True)) for r in ROWS]
    for key, descending in [("id", True), *reversed(keys)]:  # stable sorts, least significant first
        rows.sort(key=lambda r, k=key: (r[k] is not None, r[k] if r[k] is not None else 0), reverse=descending)
    return [r["id"] for r in rows]


def _not_found(marker: Any) -> Exception:
    return exceptions.BadRequest(f"marker {marker} not found")


def _all_pages(db: Database, keys: list[tuple[str, bool]], limit: int, query: sa.Select[Any] | None = None,
               ) -> list[list[str]]:
    pages: list[list[str]] = []
    marker = None
    while True:
        with db.reader() as session:
            page = paging.paginate(session, query if query is not None else sa.select(Item),
                                   [paging.SortKey(getattr(Item, k), d) for k, d in keys],
                                   paging.SortKey(Item.id, descending=True), limit, 1000, marker, _not_found)
            pages.append([item.id for item in page.rows])
        assert len(pages) <= len(ROWS) + 1, "paging does not end"
        if not page.more:
            return pages
        marker = pages[-1][-1]


ORDERS = [[("name", False)], [("name", True)], [("size", False), ("name", True)], [("kind", True), ("size", True)],
          [("name", False), ("size", False), ("kind", False)], []]


@pytest.mark.parametrize("keys", ORDERS, ids=lambda k: ",".join(f"{n}:{'desc' if d else 'asc'}" for n, d in k))
def test_pages_concatenate_to_the_sorted_listing(db: Database, keys: list[tuple[str, bool]]) -> None:
    expected = _expected(keys)
    for limit in (1, 3, 5, len(ROWS), len(ROWS) + 1):
        pages = _all_pages(db, keys, limit)
        flat = list(itertools.chain.from_iterable(pages))
        assert flat == expected, f"limit {limit}"
        assert all(len(p) == limit for p in pages[:-1]) and 0 < len(pages[-1]) <= limit
        # The last full page says there is no more only when nothing follows.
        assert len(pages) == -(-len(ROWS) // limit)


def test_filtered_query_pages_within_its_rows(db: Database) -> None:
    keys = [("size", False)]
    flat = list(itertools.chain.from_iterable(_all_pages(db, keys, 2, sa.select(Item).where(Item.kind == "x"))))
    assert flat == [i for i in _expected(keys) if dict((r[0], r[3]) for r in ROWS)[i] == "x"]


def test_unknown_marker_raises_the_callers_error(db: Database) -> None:
    with db.reader() as session, pytest.raises(exceptions.BadRequest, match="marker nope not found"):
        paging.paginate(session, sa.select(Item), [], paging.SortKey(Item.id), 5, 10, "nope", _not_found)
    # A row the query filters out is no marker for it either.
    with db.reader() as session, pytest.raises(exceptions.NotFound):
        paging.paginate(session, sa.select(Item).where(Item.kind == "x"), [], paging.SortKey(Item.id), 5, 10,
                        "id-02", lambda m: exceptions.NotFound(f"no {m}"))


def test_limit_is_bounded(db: Database) -> None:
    with db.reader() as session:
        capped = paging.paginate(session, sa.select(Item), [], paging.SortKey(Item.id), 1000, 4, None, _not_found)
        assert len(capped.rows) == 4 and capped.more
        empty = paging.paginate(session, sa.select(Item), [], paging.SortKey(Item.id), 0, 4, None, _not_found)
        assert empty.rows == [] and not empty.more
        with pytest.raises(exceptions.BadRequest):  # the marker is checked even for an empty page
            paging.paginate(session, sa.select(Item), [], paging.SortKey(Item.id), 0, 4, "nope", _not_found)
        with pytest.raises(ValueError):
            paging.paginate(session, sa.select(Item), [], paging.SortKey(Item.id), -1, 4, None, _not_found)
