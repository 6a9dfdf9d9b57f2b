"""``x-openstack-request-id``: accept a well-formed inbound id, make one otherwise,
return it on every response and put it on every log line of the request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeGuard

from nubis.common import context as nubis_context

HEADER = "x-openstack-request-id"
ENV_KEY = "openstack.request_id"  # where oslo.context looks for it
GLOBAL_ENV_KEY = "openstack.global_request_id"

_VALID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


def is_valid(value: str | None) -> TypeGuard[str]:
    return bool(value) and bool(_VALID.match(value or ""))


class RequestIdMiddleware:
    """Outermost middleware: everything inside (logs, faults) can use the id."""

    def __init__(self, app: Callable[..., Iterable[bytes]], aliases: Iterable[str] = ()) -> None:
        """``aliases``: more response header names that carry the same id (lowercase)."""
        self.app = app
        self.headers = (HEADER, *aliases)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        inbound = environ.get("HTTP_X_OPENSTACK_REQUEST_ID")
        # A caller may pass its id on (another service calling us): the global id.
        request_id = new_request_id()
        if is_valid(inbound):
            environ[GLOBAL_ENV_KEY] = inbound
            request_id = inbound  # keep one id across services for tracing
        environ[ENV_KEY] = request_id

        def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() not in self.headers]
            headers.extend((name, request_id) for name in self.headers)
            return start_response(status, headers, exc_info)

        with nubis_context.scope():
            # Current until auth knows the caller (deploy makes the full context current then), so even
            # lines logged before that (an auth failure, a body too large) carry the id.
            nubis_context.RequestContext(request_id=request_id,
                                         global_request_id=environ.get(GLOBAL_ENV_KEY)).update_store()
            return self.app(environ, _start_response)
