"""Who may do what in the metadata definitions catalog: the metadefs handlers' one place for policy.

As Glance, a namespace's rules are checked against its owner (as ``project_id``) and its
``visibility``; a caller refused a rule on a namespace it may not even read is told 404, so
private namespaces of other projects stay unseen; one that may read it is told 403.
"""

from __future__ import annotations

from typing import Any

from nubis.api import router
from nubis.common import exceptions
from nubis.image.api import access
from nubis.image.core.metadefs.catalog import MetadefCatalog


def catalog(req: router.Request) -> MetadefCatalog:
    return access.core(req).metadefs


def authorize(req: router.Request, *rules: str) -> None:
    """403 unless the caller may do each ``image:<rule>`` of its own project (creating, listing).

    :raises Forbidden: the policy says no.
    """
    ctx = access.context(req)
    for rule in rules:
        access.core(req).policy.authorize(ctx, f"image:{rule}", {"project_id": ctx.project_id})


def authorize_namespace(req: router.Request, name: str, *rules: str) -> dict[str, Any]:
    """Authorize ``rules`` on namespace ``name``; its policy target (``project_id``, ``visibility``).

    :raises NotFound: no such namespace visible to the caller, or one the policy does not let it read.
    :raises Forbidden: the caller may read the namespace but not do one of ``rules``.
    """
    ctx = access.context(req)
    found = catalog(req).namespaces.target(ctx, name)
    target = {"project_id": found["owner"], "visibility": found["visibility"]}
    policy = access.core(req).policy
    for rule in rules:
        if not policy.check(ctx, f"image:{rule}", target):
            if rule == "get_metadef_namespace" or not policy.check(ctx, "image:get_metadef_namespace", target):
                raise exceptions.NotFound(f"Metadata definition namespace={name} was not found.")
            raise exceptions.Forbidden(f"Policy doesn't allow image:{rule} to be performed.")
    return target


def may_read(req: router.Request, namespace: dict[str, Any]) -> bool:
    """Whether the caller may see ``namespace`` (a core record) in a listing."""
    return access.core(req).policy.check(access.context(req), "image:get_metadef_namespace",
                                         {"project_id": namespace["owner"], "visibility": namespace["visibility"]})
