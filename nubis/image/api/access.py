"""Who may do what to an image: the handlers' one place for policy (the core never sees it).

Glance's rules are checked against a target of the caller's project and the image's ``owner``
(the caller's own project for a new image) plus rule-specific keys (``member``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from nubis.api import router
from nubis.common.context import RequestContext
from nubis.image.core import patch
from nubis.image.core.facade import ImageCore

# Shared by every service: a cloud admin (the admin role, never on just a domain).
ADMIN_RULE = "context_is_admin"
_ADMIN_DERIVED = "nubis.image.is_admin_derived"


def core(req: router.Request) -> ImageCore:
    return req.service  # type: ignore[no-any-return]


def context(req: router.Request) -> RequestContext:
    """The caller, with ``is_admin`` derived from ``context_is_admin`` once per request."""
    ctx: RequestContext = req.context
    if ctx is not None and not req.environ.get(_ADMIN_DERIVED):
        ctx.is_admin = core(req).policy.check(ctx, ADMIN_RULE, {"project_id": ctx.project_id})
        req.environ[_ADMIN_DERIVED] = True
    return ctx


def with_admin_context(handler: router.Handler) -> router.Handler:
    """Wrap a handler so the core sees ``context.is_admin`` whatever the handler reads first."""

    @functools.wraps(handler)
    def wrapped(req: router.Request, **params: str) -> Any:
        context(req)
        return handler(req, **params)

    return wrapped


# ``owner`` not given: the rule is about a new image, owned by the caller's project.
_OWN_PROJECT: Any = object()


def authorize(req: router.Request, rule: str, owner: Any = _OWN_PROJECT, **target: Any) -> None:
    """403 unless the caller may do ``image:<rule>`` to an image of project ``owner`` (default: their own).

    :raises Forbidden: the policy says no.
    """
    ctx = context(req)
    full = {"project_id": ctx.project_id, "owner": ctx.project_id if owner is _OWN_PROJECT else owner, **target}
    core(req).policy.authorize(ctx, f"image:{rule}", full)


def authorize_on_image(req: router.Request, rule: str, image_id: str, **target: Any) -> str | None:
    """Authorize ``rule`` on the image the caller can see (404 if none); the image's owner.

    :raises NotFound: no image ``image_id`` visible to the caller.
    :raises Forbidden: the policy says no.
    """
    owner = core(req).owner_of(context(req), image_id)
    authorize(req, rule, owner, **target)
    return owner


def authorize_create(req: router.Request, body: dict[str, Any]) -> None:
    """Creating an image; making it public or giving it to another project need their own rules."""
    ctx = context(req)
    authorize(req, "add_image")
    if body.get("visibility", "shared") == "public":
        authorize(req, "publicize_image")
    if (body.get("owner") or ctx.project_id) != ctx.project_id:
        authorize(req, "set_owner")


def authorize_changes(req: router.Request, owner: str | None, changes: Iterable[patch.Change]) -> None:
    """The rules a PATCH's changes need beyond ``modify_image``: visibility public/community, owner."""
    for change in changes:
        if change.op == "remove":
            continue
        if change.name == "visibility" and change.value == "public":
            authorize(req, "publicize_image", owner)
        elif change.name == "visibility" and change.value == "community":
            authorize(req, "communitize_image", owner)
        elif change.name == "owner":
            authorize(req, "set_owner", owner)
