"""``context.is_admin``: derived once per request from the service's ``context_is_admin`` policy rule.

Every service that serves handlers through ``req.service`` with a ``policy`` attribute (compute, image,
volume) uses this, so the core reads ``ctx.is_admin`` and never asks policy itself.
"""

from __future__ import annotations

import functools
from typing import Any

from nubis.api import router
from nubis.common.context import RequestContext

# The rule that makes a caller an admin for a service's core (Nova's, Glance's and Cinder's name).
ADMIN_RULE = "context_is_admin"
_DERIVED = "nubis.is_admin_derived"


def admin_context(req: router.Request) -> RequestContext:
    """The caller, with ``is_admin`` set from ``ADMIN_RULE`` on the first call of the request."""
    ctx: RequestContext = req.context
    if ctx is not None and not req.environ.get(_DERIVED):
        ctx.is_admin = req.service.policy.check(ctx, ADMIN_RULE, {"project_id": ctx.project_id})
        req.environ[_DERIVED] = True
    return ctx


def with_admin_context(handler: router.Handler) -> router.Handler:
    """Wrap a route's handler so the core sees ``context.is_admin`` whichever helper reads it first."""

    @functools.wraps(handler)
    def wrapped(req: router.Request, **params: str) -> Any:
        admin_context(req)
        return handler(req, **params)

    return wrapped
