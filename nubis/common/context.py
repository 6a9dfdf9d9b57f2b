"""The request context: who is calling, in which scope, with which request id.

It is oslo.context's ``RequestContext`` (which already knows how to read the
headers keystonemiddleware sets and what oslo.policy wants), plus a
constructor for internal work done by the services themselves.

The context *current* in a thread (oslo.context's per-thread store) is what
oslo.log puts on every log line: the request id and the caller's user and
project. The API makes a request's context current while it handles it, an RPC
server does the same for each message it handles, ``spawn`` hands it to a
thread started for the request, and ``start_task`` gives each round of a
periodic task its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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

    # oslo.context types ``is_admin`` as ``bool | None`` (None: not decided yet); Nubis always
    # decides it (``nubis.api.admin_context``, ``admin_context()`` below), so the core reads a bool.
    @property
    def is_admin(self) -> bool:
        return bool(super().is_admin)

    @is_admin.setter
    def is_admin(self, value: bool | None) -> None:
        self._is_admin = value

    def require_project_id(self) -> str:
        """``project_id``, for work only a project-scoped caller does: the APIs refuse other tokens
        before the core runs (e.g. the volume API's ``in_project``), so ValueError here is a bug."""
        if self.project_id is None:
            raise ValueError("a project-scoped request context is needed here")
        return self.project_id

    def require_user_id(self) -> str:
        """``user_id``, which every token names (keystonemiddleware refuses one without a user)."""
        if self.user_id is None:
            raise ValueError("a user's request context is needed here")
        return self.user_id


def current() -> oslo_context.RequestContext | None:
    """The context current in this thread (what its log lines show), or None."""
    return oslo_context.get_current()


def clear_current() -> None:
    """Leave this thread with no current context, so its next log lines carry no stale request id.

    oslo.context has a setter (``update_store``) but no way to unset; pooled
    threads (the HTTP server's, the RPC executor's) outlive the work they did.
    """
    oslo_context._request_store.context = None


@contextmanager
def scope() -> Iterator[None]:
    """Whatever becomes current in this thread inside the block stays inside it: afterwards the current
    context is again what it was before (in a pooled thread: none, so no stale id is left behind).

    Building a context makes it current (oslo.context's default), so build it inside the block.
    """
    previous = current()
    try:
        yield
    finally:
        if previous is None:
            clear_current()
        else:
            previous.update_store()


def admin_context(request_id: str | None = None) -> RequestContext:
    """A context for work the services do on their own behalf.

    Inside a request (an API call, an RPC message) it keeps that request's ids,
    so the work it starts is logged and traced as part of the request; it never
    changes the thread's current context. Outside one it has a new id.
    """
    kwargs: dict[str, Any] = {"is_admin": True, "roles": ["admin"], "system_scope": "all", "overwrite": False}
    running = current()
    if request_id:
        kwargs["request_id"] = request_id
    elif running is not None:
        kwargs["request_id"] = running.request_id
        kwargs["global_request_id"] = running.global_request_id
    ctx = RequestContext(**kwargs)
    if running is None:
        clear_current()  # oslo.context stores a context made while none is current; this one must not be
    return ctx


def start_task() -> RequestContext:
    """An admin context with a new request id, made current in this thread.

    Called at the start of each round of a periodic task (or each item a
    background loop handles), so its log lines share an id of their own.
    """
    return RequestContext(is_admin=True, roles=["admin"], system_scope="all", overwrite=True)


def spawn(target: Callable[..., Any], *args: Any, name: str | None = None, daemon: bool = True) -> threading.Thread:
    """Start ``target(*args)`` in a new thread that carries this thread's current context.

    Work a request starts in the background (an image import, a build) then
    logs with the request's id and caller, like the rest of the request.
    """
    ctx = current()

    def run() -> None:
        with scope():
            if ctx is not None:
                ctx.update_store()
            target(*args)

    thread = threading.Thread(target=run, name=name, daemon=daemon)
    thread.start()
    return thread
