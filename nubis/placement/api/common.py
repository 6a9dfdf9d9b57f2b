"""Helpers the placement handlers share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import webob

from nubis.api import microversion, router, validation
from nubis.common import exceptions
from nubis.common.db import retry
from nubis.placement.core.facade import PlacementCore

MIN_VERSION = "1.0"
MAX_VERSION = "1.39"


def core(req: router.Request) -> PlacementCore:
    return req.service


def rerun_on_deadlock(handler: Callable[..., webob.Response]) -> Callable[..., webob.Response]:
    """Run a write handler again, whole, when its transaction lost a deadlock or a lock wait.

    Every placement write handler is one transaction with no effect outside the database, so running
    it again is safe: what it checks (provider and consumer generations, capacity) is read again, and
    a request that lost to a concurrent writer ends as that writer's 409, not as a 500. How often comes
    from ``[database] deadlock_retries``; a write that lost every time is 409 placement.concurrent_update
    (the client reads again and retries, as after a generation conflict).
    """

    @functools.wraps(handler)
    def rerunning(req: router.Request, **params: Any) -> webob.Response:
        retries = core(req).db.deadlock_retries
        try:
            return retry.deadlock_retrying(retries, handler.__qualname__)(handler, req, **params)
        except sa.exc.DBAPIError as exc:
            if retry.lost_to_another(exc):
                raise exceptions.Conflict(
                    "Other requests kept changing the same records at the same time; read them again and "
                    "retry.", error_type="placement.concurrent_update") from None
            raise

    return rerunning


def authorize(req: router.Request, rule: str) -> None:
    ctx = req.context
    core(req).policy.authorize(ctx, f"placement:{rule}", {"project_id": ctx.project_id, "user_id": ctx.user_id})


def at_least(req: router.Request, version: str) -> bool:
    current = req.version or microversion.Version.parse(MIN_VERSION)
    return current.matches(version)


def require_version(req: router.Request, version: str) -> None:
    if not at_least(req, version):
        raise exceptions.NotFound(f"The resource could not be found (needs microversion {version}).")


def body(req: router.Request, schema: dict[str, Any]) -> Any:
    data = req.json_body()
    validation.validate(data, schema)
    return data


def base_url(req: router.Request) -> str:
    return req.script_name or ""


def generation_of(data: dict[str, Any]) -> int:
    gen = data.get("resource_provider_generation")
    if not isinstance(gen, int):
        raise exceptions.BadRequest("resource_provider_generation is required and must be an integer.")
    return gen
