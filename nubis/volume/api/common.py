"""What every volume handler needs from a request: the core, the caller (checked against the URL's project),
the microversion, the body, and list parameters."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import webob

from nubis.api import admin_context, router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.volume.core import listing
from nubis.volume.core.facade import VolumeCore

MIN = Version(3, 0)


def core(req: router.Request) -> VolumeCore:
    return req.service  # type: ignore[no-any-return]


context = admin_context.admin_context


def in_project(handler: router.Handler) -> router.Handler:
    """A route under ``/v3/{project_id}``: the URL's project must be the token's (Cinder answers 400
    "Malformed request url" otherwise); a token scoped to no project is refused (403)."""

    @functools.wraps(handler)
    def wrapped(req: router.Request, project_id: str, **params: str) -> Any:
        ctx = context(req)
        if not ctx.project_id:
            raise exceptions.Forbidden("The block storage API needs a project-scoped token.")
        if project_id != ctx.project_id:
            raise exceptions.BadRequest("Malformed request url: the project in the URL is not the token's.")
        return handler(req, **params)

    return wrapped


def version_of(req: router.Request) -> Version:
    return req.version or MIN


def since(first: Version) -> Callable[[router.Handler], router.Handler]:
    """A route that exists from microversion ``first`` (404 before, as Cinder)."""

    def wrap(handler: router.Handler) -> router.Handler:
        @functools.wraps(handler)
        def wrapped(req: router.Request, **params: str) -> Any:
            if version_of(req) < first:
                raise exceptions.NotFound(f"The resource could not be found: it needs microversion {first} or later.")
            return handler(req, **params)

        return wrapped

    return wrap


def body_of(req: router.Request) -> dict[str, Any]:
    body = req.json_body()
    if not isinstance(body, dict):
        raise exceptions.BadRequest("The request body must be a JSON object.")
    return body


def authorize(req: router.Request, rule: str, owner: str | None = None, extra: Mapping[str, Any] | None = None) -> None:
    """403 unless the caller may do ``rule`` on a resource of project ``owner`` (default: the caller's)."""
    ctx = context(req)
    target = {"project_id": owner or ctx.project_id, "user_id": ctx.user_id, **(extra or {})}
    core(req).policy.authorize(ctx, rule, target)


def authorize_owned(req: router.Request, rule: str, owner: str | None) -> None:
    """Authorize ``rule`` on a resource of project ``owner``. A non-admin is checked against their own project:
    the core then answers 404 for another project's resource, as Cinder's project-filtered lookups do (a 403
    would confirm that the id exists)."""
    authorize(req, rule, owner if context(req).is_admin else None)


def is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes", "on", "t", "y")


def _int_param(name: str, value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise exceptions.BadRequest(f"Invalid input received: {name} must be a non-negative integer "
                                    f"(got {value[:50]!r}).")
    return int(value)


# Cinder's older names of sort keys.
_SORT_ALIASES = {"display_name": "name", "display_description": "description"}


def _sort(params: Mapping[str, str]) -> tuple[tuple[str, bool], ...]:
    """Cinder's ``sort=key[:asc|desc],...``, or ``sort_key``/``sort_dir``; default newest first."""
    if "sort" in params and ("sort_key" in params or "sort_dir" in params):
        raise exceptions.BadRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used "
                                    "with the 'sort' parameter.")
    if "sort" in params:
        pairs = [part.strip().partition(":")[::2] for part in params["sort"].split(",") if part.strip()]
    elif "sort_key" in params or "sort_dir" in params:
        pairs = [(params.get("sort_key", "created_at"), params.get("sort_dir", "desc"))]
    else:
        return (("created_at", True),)
    out = []
    for key, direction in pairs[:5]:
        key = _SORT_ALIASES.get(key, key)
        if key not in listing.SORT_KEYS:
            raise exceptions.BadRequest(f"Invalid sort key {key[:50]!r}: it must be one of "
                                        f"{', '.join(listing.SORT_KEYS)}.")
        direction = direction or "desc"
        if direction not in ("asc", "desc"):
            raise exceptions.BadRequest(f"Invalid sort direction {direction[:50]!r}: it must be asc or desc.")
        out.append((key, direction == "desc"))
    return tuple(out)


def list_query(req: router.Request, filter_keys: tuple[str, ...]) -> listing.ListQuery:
    """A list request's filters, sort, limit, marker and (for admins) ``all_tenants`` / ``project_id``."""
    ctx = context(req)
    params = dict(req.GET.items())
    max_limit = core(req).conf.volume.osapi_max_limit
    limit = min(_int_param("limit", params["limit"]), max_limit) if "limit" in params else max_limit
    all_projects = ctx.is_admin and is_true(params.get("all_tenants"))
    filters = {k: params[k] for k in filter_keys if k in params}
    for key, value in filters.items():
        if len(value) > 255:
            raise exceptions.BadRequest(f"Invalid filter {key}: longer than 255 characters.")
    return listing.ListQuery(filters=filters, sort=_sort(params), limit=limit, marker=params.get("marker"),
                             all_projects=all_projects,
                             offset=_int_param("offset", params["offset"]) if "offset" in params else 0,
                             project_id=params.get("project_id") if all_projects else None)


def next_link(req: router.Request, collection: str, items: list[dict[str, Any]], more: bool) -> list[dict[str, str]]:
    """Cinder's ``<collection>_links``: a next link when the page is full (as Cinder: also when nothing follows
    a page of exactly ``limit`` items) or more items follow it."""
    limit = req.GET.get("limit")
    full = limit is not None and limit.isdigit() and len(items) == int(limit)
    if not items or not (more or full):
        return []
    params = {k: v for k, v in req.GET.items() if k not in ("marker", "offset")}  # the marker is past the offset
    params["marker"] = items[-1]["id"]
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return [{"rel": "next", "href": f"{req.application_url}{req.path_info}?{query}"}]


def page_response(req: router.Request, collection: str, items: list[dict[str, Any]], more: bool) -> webob.Response:
    """``{"<collection>": items}`` plus Cinder's ``<collection>_links`` when a next page exists."""
    body: dict[str, Any] = {collection: items}
    nexts = next_link(req, collection, items, more)
    if nexts:
        body[f"{collection}_links"] = nexts
    return router.json_response(body)
