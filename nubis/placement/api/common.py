"""Helpers the placement handlers share."""

from __future__ import annotations

from typing import Any

from nubis.api import microversion, router, validation
from nubis.common import exceptions
from nubis.placement.core.facade import PlacementCore

MIN_VERSION = "1.0"
MAX_VERSION = "1.39"


def core(req: router.Request) -> PlacementCore:
    return req.service


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
