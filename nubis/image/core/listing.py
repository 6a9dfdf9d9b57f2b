"""GET /v2/images: filters, sorting and marker pagination as glanceclient and openstacksdk use them."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import paging
from nubis.image.core import records
from nubis.image.db.models import Image, ImageMember, ImageProperty, ImageTag

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at",
             "visibility", "owner", "min_disk", "min_ram", "virtual_size")
OPERATORS = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__", "eq": "__eq__", "neq": "__ne__"}
KNOWN = {"limit", "marker", "sort_key", "sort_dir", "sort", "name", "status", "visibility", "owner", "member_status",
         "tag", "disk_format", "container_format", "size_min", "size_max", "created_at", "updated_at",
         "os_hidden", "protected", "id"}


@dataclasses.dataclass
class Page:
    images: list[dict[str, Any]]
    next_marker: str | None


# size is a BIGINT column: a bound beyond it is an error for the database, not an empty list.
MAX_BIGINT = 2**63 - 1


def _int(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.lstrip("-").isascii() or not value.lstrip("-").isdigit() or len(value) > 20 \
            or abs(int(value)) > MAX_BIGINT:
        raise exceptions.BadRequest(f"{name} must be an integer between {-MAX_BIGINT} and {MAX_BIGINT}, "
                                    f"not {value[:40]!r}")
    return int(value)


def _check_text(params: Mapping[str, str], tags: list[str]) -> None:
    """NUL cannot be compared by every database (PostgreSQL refuses it): 400, naming the parameter."""
    for name, value in [*params.items(), *(("tag", t) for t in tags)]:
        if "\x00" in name or "\x00" in value:
            raise exceptions.BadRequest(f"Query parameter {name!r} contains a NUL character.")


def _time_filter(column: Any, text: str, name: str) -> sa.ColumnElement[bool]:
    op, sep, value = text.partition(":")
    if not sep or op not in OPERATORS:
        op, value = "eq", text
    try:
        when = datetime.datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=None)
    except ValueError:
        raise exceptions.BadRequest(f"Invalid {name} filter {text!r}: use an operator (gt, gte, lt, lte, eq, neq) "
                                    "and an ISO 8601 time, e.g. gte:2026-01-01T00:00:00Z") from None
    return getattr(column, OPERATORS[op])(when)


def _sort(params: Mapping[str, Any], sort_keys: list[str], sort_dirs: list[str]) -> list[tuple[str, str]]:
    if params.get("sort"):
        if sort_keys or sort_dirs:
            raise exceptions.BadRequest("Use either sort or sort_key/sort_dir, not both.")
        out = []
        for part in str(params["sort"]).split(","):
            key, _, direction = part.strip().partition(":")
            out.append((key, direction or "desc"))
    else:
        keys = sort_keys or ["created_at"]
        dirs = sort_dirs or ["desc"] * len(keys)
        if len(dirs) == 1 and len(keys) > 1:
            dirs = dirs * len(keys)
        if len(dirs) != len(keys):
            raise exceptions.BadRequest("Give one sort_dir per sort_key, or a single one for all.")
        out = list(zip(keys, dirs, strict=True))
    for key, direction in out:
        if key not in SORT_KEYS:
            raise exceptions.BadRequest(f"Invalid sort key {key!r}; valid keys: {', '.join(SORT_KEYS)}")
        if direction not in ("asc", "desc"):
            raise exceptions.BadRequest(f"Invalid sort direction {direction!r}: use asc or desc")
    return out


def list_images(session: orm.Session, ctx: RequestContext, params: Mapping[str, str], tags: list[str],
                sort_keys: list[str], sort_dirs: list[str], default_limit: int, max_limit: int) -> Page:
    _check_text(params, tags)
    q = sa.select(Image).where(Image.status != "deleted", records.visible_clause(ctx))
    visibility = params.get("visibility")
    member_status = params.get("member_status", "accepted")
    if member_status not in ("pending", "accepted", "rejected", "all"):
        raise exceptions.BadRequest(f"Invalid member_status {member_status!r}")
    if visibility is not None and visibility not in (*records.VISIBILITIES, "all"):
        raise exceptions.BadRequest(f"Invalid visibility {visibility!r}: use public, private, shared, community or all")
    shared_with_me = sa.select(ImageMember.image_id).where(ImageMember.member == ctx.project_id)
    if member_status != "all":
        shared_with_me = shared_with_me.where(ImageMember.status == member_status)
    if visibility in (None, "shared") and not records.is_admin(ctx):
        # Default listing: public, the project's own, and shares it accepted (not community).
        mine_or_shared = sa.or_(Image.owner == ctx.project_id, Image.id.in_(shared_with_me))
        q = q.where(sa.or_(Image.visibility == "public", mine_or_shared) if visibility is None
                    else sa.and_(Image.visibility == "shared", mine_or_shared))
    elif visibility is None:
        q = q.where(Image.visibility != "community")
    elif visibility != "all":
        q = q.where(Image.visibility == visibility)
    for name in ("name", "status", "owner", "disk_format", "container_format", "id"):
        if params.get(name) is not None:
            value = params[name]
            column = getattr(Image, name)
            q = q.where(column.in_(value[3:].split(",")) if value.startswith("in:") else column == value)
    for name in ("os_hidden", "protected"):
        flag = params.get(name)
        if flag is not None:
            if flag.lower() not in ("true", "false"):
                raise exceptions.BadRequest(f"{name} must be true or false")
            q = q.where(getattr(Image, name).is_(flag.lower() == "true"))
    if params.get("os_hidden") is None:
        q = q.where(Image.os_hidden.is_(False))
    size_min, size_max = _int(params, "size_min"), _int(params, "size_max")
    if size_min is not None:
        q = q.where(Image.size >= size_min)
    if size_max is not None:
        q = q.where(Image.size <= size_max)
    for name in ("created_at", "updated_at"):
        if params.get(name):
            q = q.where(_time_filter(getattr(Image, name), params[name], name))
    for tag in tags:
        q = q.where(Image.id.in_(sa.select(ImageTag.image_id).where(ImageTag.value == tag)))
    for name, value in params.items():
        if name not in KNOWN:  # custom property filter
            q = q.where(Image.id.in_(sa.select(ImageProperty.image_id).where(
                ImageProperty.name == name, ImageProperty.value == value)))
    order = _sort(params, sort_keys, sort_dirs)
    limit = _int(params, "limit")
    if limit is not None and limit < 0:
        raise exceptions.BadRequest("limit must not be negative")
    page = paging.paginate(
        session, q, [paging.SortKey(getattr(Image, key), d == "desc") for key, d in order],
        paging.SortKey(Image.id, descending=True), limit if limit is not None else default_limit, max_limit,
        params.get("marker") or None, _unknown_marker)
    images = page.rows
    return Page(records.load(session, images), images[-1].id if images and page.more else None)


def _unknown_marker(marker: str) -> exceptions.BadRequest:
    # Glance answers 400 for a marker that is not an image of this listing.
    return exceptions.BadRequest(f"Invalid marker: no image with ID {marker} in this listing.")
