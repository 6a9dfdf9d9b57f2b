"""What every compute handler needs from a request: the core, the caller, the microversion, the body."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from nubis.api import admin_context, router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.core.facade import ComputeCore


def core(req: router.Request) -> ComputeCore:
    return req.service


# The caller with ``is_admin`` derived once per request (shared by every service's handlers).
context = admin_context.admin_context
with_admin_context = admin_context.with_admin_context


def version_of(req: router.Request) -> Version:
    return req.version or Version(2, 1)


def body_of(req: router.Request) -> dict[str, Any]:
    body = req.json_body()
    if not isinstance(body, dict):
        raise exceptions.BadRequest("The request body must be a JSON object.")
    return body


def params_of(req: router.Request) -> dict[str, str]:
    """The query string as a dict (the last value of a repeated parameter wins)."""
    return dict(req.GET.items())


def authorize(req: router.Request, rule: str, target: Mapping[str, Any] | None = None) -> None:
    """403 unless the caller may do ``os_compute_api:<rule>`` on ``target`` (default: their own project)."""
    ctx = context(req)
    if target is None:
        target = {"project_id": ctx.project_id, "user_id": ctx.user_id}
    core(req).policy.authorize(ctx, f"os_compute_api:{rule}", target)


def is_true(value: str | None) -> bool:
    """A query flag as Nova reads them (``all_tenants``, ``all_projects``: present and not false)."""
    return value is not None and value.lower() in ("", "1", "true", "yes", "on")


# The most items one page of a listing holds, whatever ``limit`` asks for (Nova's [api] max_limit default).
MAX_LIMIT = 1000


def page_limit(value: str | None) -> int:
    """A listing's ``limit``: digits only (400 naming ``limit`` otherwise), capped at ``MAX_LIMIT``."""
    if value is None:
        return MAX_LIMIT
    if not value.isascii() or not value.isdigit():
        raise exceptions.BadRequest(f"Invalid input for field/attribute limit. Value: {value[:50]!r}. It must be a "
                                    "non-negative integer.")
    digits = value.lstrip("0") or "0"
    # Any number of more digits than MAX_LIMIT has is over it: no need to convert it (nor risk int()'s limit).
    return MAX_LIMIT if len(digits) > len(str(MAX_LIMIT)) else min(int(digits), MAX_LIMIT)


def until(last: Version) -> Callable[[router.Handler], router.Handler]:
    """A route that exists up to microversion ``last`` (Nova removed it after): 404 at later versions."""

    def wrap(handler: router.Handler) -> router.Handler:
        @functools.wraps(handler)
        def wrapped(req: router.Request, **params: str) -> Any:
            if version_of(req) > last:
                raise exceptions.NotFound(f"This API was removed after microversion {last}.")
            return handler(req, **params)

        return wrapped

    return wrap
