"""Listing: filters, tag filters, sorting, pagination and ``fields=``, as Networking v2.0 defines them.

Cores hand over every visible resource as a dict (equality filters on plain
columns are already pushed into SQL by then); this module applies the rest
the same way for every collection.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nubis.network.core import errors

# Parameters that steer the listing rather than filter it.
CONTROL = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse", "tags", "tags-any", "not-tags",
           "not-tags-any"}


@dataclasses.dataclass
class ListParams:
    filters: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    fields: list[str] = dataclasses.field(default_factory=list)
    sort: list[tuple[str, bool]] = dataclasses.field(default_factory=list)  # (key, ascending)
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False
    tags_all: list[str] = dataclasses.field(default_factory=list)
    tags_any: list[str] = dataclasses.field(default_factory=list)
    not_tags_all: list[str] = dataclasses.field(default_factory=list)
    not_tags_any: list[str] = dataclasses.field(default_factory=list)

    def equality(self, names: Iterable[str]) -> dict[str, list[str]]:
        """Filters on ``names`` (the ones a core can push into SQL)."""
        return {k: v for k, v in self.filters.items() if k in set(names)}


def parse(items: Sequence[tuple[str, str]], max_limit: int) -> ListParams:
    """``ListParams`` from the query string's (name, value) pairs."""
    p = ListParams()
    keys: list[str] = []
    dirs: list[str] = []
    for name, value in items:
        if name == "fields":
            p.fields.extend(v for v in value.split(",") if v)
        elif name == "sort_key":
            keys.append(value)
        elif name == "sort_dir":
            if value not in ("asc", "desc"):
                raise errors.bad_request("HTTPBadRequest", f"sort_dir must be 'asc' or 'desc', not {value!r}.")
            dirs.append(value)
        elif name == "limit":
            try:
                p.limit = int(value)
            except ValueError:
                raise errors.bad_request("HTTPBadRequest", f"limit must be an integer, not {value!r}.") from None
            if p.limit < 0:
                raise errors.bad_request("HTTPBadRequest", "limit must not be negative.")
            p.limit = min(p.limit, max_limit) if p.limit else None
        elif name == "marker":
            p.marker = value
        elif name == "page_reverse":
            p.page_reverse = value.lower() == "true"
        elif name in ("tags", "tags-any", "not-tags", "not-tags-any"):
            target = {"tags": p.tags_all, "tags-any": p.tags_any, "not-tags": p.not_tags_all,
                      "not-tags-any": p.not_tags_any}[name]
            target.extend(t for t in value.split(",") if t)
        else:
            p.filters.setdefault(name, []).append(value)
    if dirs and len(dirs) != len(keys):
        raise errors.bad_request("HTTPBadRequest", "The number of sort_keys and sort_dirs must be the same.")
    p.sort = [(k, (dirs[i] if dirs else "asc") == "asc") for i, k in enumerate(keys)]
    return p


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _matches_fixed_ips(ips: list[dict[str, Any]], wanted: list[str]) -> bool:
    # fixed_ips=ip_address=10.0.0.5 / subnet_id=... / ip_address_substr=10.0 (ip-substring-filtering)
    for spec in wanted:
        key, _, val = spec.partition("=")
        if key == "ip_address_substr":
            if not any(val in ip.get("ip_address", "") for ip in ips):
                return False
        elif key in ("ip_address", "subnet_id"):
            if not any(ip.get(key) == val for ip in ips):
                return False
        else:
            raise errors.bad_request("HTTPBadRequest", f"Unknown fixed_ips filter {key!r}: use ip_address, "
                                                       "subnet_id or ip_address_substr.")
    return True


def _matches(item: Mapping[str, Any], name: str, values: list[str]) -> bool:
    if name == "fixed_ips":
        return _matches_fixed_ips(item.get("fixed_ips") or [], values)
    if name not in item:
        return True  # Neutron ignores filters on attributes a resource does not have
    actual = item[name]
    if isinstance(actual, list):
        return any(_text(v) in values for v in actual) or (actual == [] and "" in values)
    if isinstance(actual, bool):
        return _text(actual) in [v.lower() for v in values]
    return _text(actual) in values


def _tags_ok(item: Mapping[str, Any], p: ListParams) -> bool:
    tags = set(item.get("tags") or [])
    if p.tags_all and not set(p.tags_all) <= tags:
        return False
    if p.tags_any and not tags & set(p.tags_any):
        return False
    if p.not_tags_all and set(p.not_tags_all) <= tags:
        return False
    return not (p.not_tags_any and tags & set(p.not_tags_any))


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool | int):
        return (1, int(value))
    try:
        return (2, ipaddress.ip_address(value))
    except ValueError:
        return (3, str(value))


@dataclasses.dataclass
class Page:
    items: list[dict[str, Any]]


def links(items: Sequence[Mapping[str, Any]], p: ListParams) -> list[tuple[str, str | None, bool]]:
    """Neutron's paging links of a page of ``items`` listed with ``p``, as (rel, marker, page_reverse).

    With a ``limit``, ``next`` is given unless a forward page came back short and ``previous`` unless a
    reversed page did (so a full last page still has a ``next``, to the empty page after it, and a first
    page a ``previous``). ``next`` continues after the page's last item, ``previous`` before its first;
    an empty page's links carry no marker (from either end of the listing).
    """
    if not p.limit:
        return []
    short = len(items) < p.limit
    out: list[tuple[str, str | None, bool]] = []
    if not (short and not p.page_reverse):
        out.append(("next", str(items[-1]["id"]) if items else None, False))
    if not (short and p.page_reverse):
        out.append(("previous", str(items[0]["id"]) if items else None, True))
    return out


def apply(items: Iterable[dict[str, Any]], p: ListParams, sortable: Iterable[str]) -> Page:
    """Filter, sort and page ``items`` (``fields=`` is applied by ``select_fields`` after)."""
    rows = [i for i in items if _tags_ok(i, p) and all(_matches(i, k, v) for k, v in p.filters.items())]
    sortable = set(sortable)
    for key, _ in p.sort:
        if key not in sortable:
            raise errors.bad_request("HTTPBadRequest", f"{key} is an invalid attribute for sort_keys; "
                                                       f"use one of {', '.join(sorted(sortable))}.")
    order = p.sort or [("id", True)]
    if all(k != "id" for k, _ in order):
        order = [*order, ("id", order[0][1])]  # a total order, so markers are stable
    for key, ascending in reversed(order):
        ascending = ascending != p.page_reverse
        # Python's sort is stable: sorting by the last key first gives a multi-key order.
        rows.sort(key=lambda r, k=key: _sort_value(r.get(k)), reverse=not ascending)  # type: ignore[misc]
    start = 0
    if p.marker:
        ids = [r["id"] for r in rows]
        if p.marker not in ids:
            return Page([])
        start = ids.index(p.marker) + 1
    if p.limit is None:
        page = rows[start:]
        return Page(list(reversed(page)) if p.page_reverse else page)
    page = rows[start:start + p.limit]
    return Page(list(reversed(page)) if p.page_reverse else page)


def select_fields(item: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields}
