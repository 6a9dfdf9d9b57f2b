"""Helpers the identity handlers share: targets for policy, query filters, list bodies."""

from __future__ import annotations

import datetime
from typing import Any

from nubis.api import router
from nubis.common import exceptions
from nubis.identity.core.facade import IdentityCore


def core(req: router.Request) -> IdentityCore:
    return req.service


def authorize(req: router.Request, rule: str, target: dict[str, Any] | None = None) -> None:
    ctx = req.context
    full = {"domain_id": ctx.domain_id, "project_id": ctx.project_id, "user_id": ctx.user_id}
    full.update(target or {})
    core(req).policy.authorize(ctx, f"identity:{rule}", full)


def bool_filter(req: router.Request, name: str) -> bool | None:
    value = req.query_one(name)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "1", "yes", ""):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise exceptions.BadRequest(f"Query parameter '{name}' must be true or false, not {value!r}.")


def collection(req: router.Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: items, "links": {"self": req.path_url, "previous": None, "next": None}}


def entity_body(req: router.Request, key: str, allowed: set[str], required: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    """The object under ``key`` in the JSON body, with unknown or missing fields refused."""
    body = req.json_body()
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise exceptions.BadRequest(f"Expecting to find {key} in request body.")
    entity = body[key]
    for field in required:
        if field not in entity or entity[field] in (None, ""):
            raise exceptions.BadRequest(f"Invalid input for field '{field}': it is required.")
    return entity


def parse_expiry(value: str | None) -> datetime.datetime | None:
    """An ``expires_at`` (ISO 8601, any offset) as naive UTC, or None; 400 naming the field otherwise."""
    if not value:
        return None
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise exceptions.BadRequest(f"Invalid expires_at {value!r}: use ISO 8601.") from None
    return when.astimezone(datetime.UTC).replace(tzinfo=None) if when.tzinfo else when
