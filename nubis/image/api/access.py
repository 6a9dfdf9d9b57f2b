"""Who may do what to an image: the handlers' one place for policy (the core never sees it).

Glance's rules are checked against a target of the caller's project and the image's ``owner``
(the caller's own project for a new image) plus rule-specific keys (``member``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nubis.api import admin_context, router
from nubis.image.core import patch
from nubis.image.core.facade import ImageCore


def core(req: router.Request) -> ImageCore:
    return req.service


context = admin_context.admin_context
with_admin_context = admin_context.with_admin_context


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
