"""The request context: who is calling, in which scope, with which request id.

It is oslo.context's ``RequestContext`` (which already knows how to read the
headers keystonemiddleware sets and what oslo.policy wants), plus a
constructor for internal work done by the services themselves.
"""

from __future__ import annotations

from typing import Any

from oslo_context import context as oslo_context


class RequestContext(oslo_context.RequestContext):
    """A caller's identity and scope, passed down from the API and over RPC."""

    @classmethod
    def from_environ(cls, environ: dict[str, Any], **kwargs: Any) -> RequestContext:
        ctx = super().from_environ(environ, **kwargs)
        assert isinstance(ctx, RequestContext)
        return ctx

    @classmethod
    def from_dict(cls, values: dict[str, Any], **kwargs: Any) -> RequestContext:
        ctx = super().from_dict(values, **kwargs)
        assert isinstance(ctx, RequestContext)
        return ctx


def admin_context(request_id: str | None = None) -> RequestContext:
    """A context for work the services do on their own behalf (periodic tasks, agents)."""
    kwargs: dict[str, Any] = {"is_admin": True, "roles": ["admin"], "system_scope": "all"}
    if request_id:
        kwargs["request_id"] = request_id
    return RequestContext(**kwargs)
