"""Listing volumes and snapshots: filters, Cinder's ``sort`` (``key:dir,...``) or ``sort_key``/``sort_dir``,
and keyset pages after ``marker``."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.db import paging

SORT_KEYS = ("id", "name", "status", "size", "created_at", "updated_at", "availability_zone", "bootable")


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """What a list request asks for (already checked by the API: keys, directions, limit)."""

    filters: dict[str, str] = dataclasses.field(default_factory=dict)  # column name -> exact value
    sort: tuple[tuple[str, bool], ...] = (("created_at", True),)  # (key, descending)
    limit: int = 1000
    marker: str | None = None
    all_projects: bool = False
    project_id: str | None = None  # an admin's filter on one project
    offset: int = 0  # rows skipped before the page (Cinder's ``offset``)


def select_all(s: Any, model: Any, query: ListQuery, caller_project: str) -> list[Any]:
    """Every ``model`` row visible to the caller and matching ``query``'s filters (its sort and page aside)."""
    return list(s.scalars(_filtered(model, query, caller_project)))


def page(s: Any, model: Any, query: ListQuery, caller_project: str, max_limit: int) -> paging.Page[Any]:
    """One page of ``model`` rows visible to the caller and matching ``query``."""
    select = _filtered(model, query, caller_project)
    keys = [paging.SortKey(getattr(model, k), desc) for k, desc in query.sort if k != "id"]
    id_desc = next((desc for k, desc in query.sort if k == "id"), True)

    def unknown(marker: Any) -> Exception:
        return exceptions.NotFound(f"Marker {query.marker} could not be found.")

    return paging.paginate(s, select, keys, paging.SortKey(model.id, id_desc), query.limit, max_limit,
                           query.marker, unknown, query.offset)


def _filtered(model: Any, query: ListQuery, caller_project: str) -> Any:
    """The select of ``model`` rows visible to the caller (its project, or all projects for an admin's
    ``all_tenants``) that match ``query``'s filters."""
    select = sa.select(model)
    if not query.all_projects:
        select = select.where(model.project_id == caller_project)
    elif query.project_id:
        select = select.where(model.project_id == query.project_id)
    for key, value in query.filters.items():
        column = getattr(model, key)
        if key == "size":
            if not value.isdigit():
                raise exceptions.BadRequest(f"Invalid filter size: {value[:50]!r} is not an integer.")
            select = select.where(column == int(value))
        else:
            select = select.where(column == value)
    return select
