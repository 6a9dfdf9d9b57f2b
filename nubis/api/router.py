"""Requests, responses and the route table.

Routes are a dict, as placement keeps them: ``{"/v3/users/{user_id}": {"GET": fn}}``.
Handlers are plain functions ``fn(req, **path_params) -> webob.Response``; they
authorise, validate and call one core function. ``public`` marks the few
handlers that need no token (version discovery, token issue).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import webob

from nubis.api import metrics, microversion
from nubis.common import context as nubis_context
from nubis.common import exceptions

Handler = Callable[..., webob.Response]
RouteTable = Mapping[str, Mapping[str, Handler]]
F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_KEY = "nubis.context"
SERVICE_KEY = "nubis.service"
AUTHENTICATED_KEY = "nubis.authenticated"

JSON_TYPES = ("application/json",)

# No OpenStack request body comes near this; the bound keeps the parser (and
# schema validation, and any echo of the body) far from Python's recursion limit.
MAX_JSON_DEPTH = 64
# Strings (skipped whole, so brackets inside them do not count) and brackets.
_JSON_NESTING = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _nesting_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the arrays/objects in the JSON text ``raw`` nest deeper than ``limit``, found without parsing."""
    depth = 0
    for match in _JSON_NESTING.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def public(handler: F) -> F:
    """Mark a handler as reachable without a valid token."""
    handler.nubis_public = True  # type: ignore[attr-defined]
    return handler


class Request(webob.Request):
    """A webob request with the pieces Nubis middleware put on it."""

    @property
    def context(self) -> nubis_context.RequestContext:
        ctx = self.environ.get(CONTEXT_KEY)
        if ctx is None:
            ctx = nubis_context.RequestContext.from_environ(self.environ)
            self.environ[CONTEXT_KEY] = ctx
        return ctx

    @property
    def version(self) -> microversion.Version | None:
        return self.environ.get(microversion.ENV_KEY)

    @property
    def service(self) -> Any:
        """The service's core object (whatever its ``ApiSpec`` was built with)."""
        return self.environ[SERVICE_KEY]

    def json_body(self, allowed_types: Iterable[str] = JSON_TYPES) -> Any:
        """The parsed JSON body; 415 for another content type, 400 when malformed or nested too deep."""
        if self.content_type and self.content_type not in allowed_types:
            raise exceptions.UnsupportedMediaType(
                f"The media type {self.content_type} is not supported; send {', '.join(allowed_types)}."
            )
        raw = self.body
        if not raw:
            raise exceptions.BadRequest("The request body is empty; a JSON document is required.")
        if _nesting_exceeds(raw, MAX_JSON_DEPTH):
            raise exceptions.BadRequest(
                f"The JSON document in the request body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep."
            )
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise exceptions.BadRequest(f"Malformed JSON in request body: {exc}") from None
        # "\ud800" parses, but a lone surrogate is no character: no database can store it.
        if (b"\\ud" in raw or b"\\uD" in raw) and _has_lone_surrogate(value):
            raise exceptions.BadRequest("The JSON document holds a string with a lone surrogate (\\ud800-\\udfff); "
                                        "strings must be valid Unicode.")
        return value

    def query_one(self, name: str, default: str | None = None) -> str | None:
        values = self.GET.getall(name)
        if len(values) > 1:
            raise exceptions.BadRequest(f"Query parameter '{name}' may be given only once.")
        return values[0] if values else default


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any string (key or value) in a parsed JSON document holds an unpaired surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> webob.Response:
    resp = webob.Response(status=status, content_type="application/json", charset="UTF-8")
    if body is not None and status != 204:
        resp.body = json.dumps(body, default=str).encode()
    else:
        resp.content_type = None
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def empty_response(status: int = 204, headers: Mapping[str, str] | None = None) -> webob.Response:
    resp = webob.Response(status=status)
    resp.content_type = None
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


_PARAM = re.compile(r"\{(\w+)\}")


def _compile(template: str) -> re.Pattern[str]:
    pattern = _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
    return re.compile(f"^{pattern}/?$" if template != "/" else "^/$")


class Router:
    """Dispatch to the handler of the matching route; 404/405 otherwise."""

    def __init__(self, routes: RouteTable, service: Any, require_auth: bool = True,
                 auth_uri: str = "") -> None:
        self.service = service
        self.require_auth = require_auth
        self.auth_uri = auth_uri
        self._routes = [(template, _compile(template), dict(methods)) for template, methods in routes.items()]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request(environ)
        path = req.path_info or "/"
        for template, pattern, methods in self._routes:
            match = pattern.match(path)
            if not match:
                continue
            environ[metrics.ROUTE_KEY] = template
            method = "GET" if req.method == "HEAD" and "HEAD" not in methods else req.method
            handler = methods.get(method)
            if handler is None and path.endswith("/") and not template.endswith("/"):
                # ``DELETE /v2/images/``: an item route with an empty id, which is not found (Glance and Nova
                # answer 404), rather than the collection refusing the method.
                raise exceptions.NotFound(f"The resource could not be found: {path}")
            if handler is None:
                allowed = ", ".join(sorted(methods))
                raise exceptions.MethodNotAllowed(
                    f"The method {req.method} is not allowed for {path}; allowed: {allowed}.",
                    headers={"Allow": allowed},
                )
            if self.require_auth and not getattr(handler, "nubis_public", False) and not environ.get(AUTHENTICATED_KEY):
                raise exceptions.Unauthorized(
                    "The request you have made requires authentication.",
                    headers={"WWW-Authenticate": f'Keystone uri="{self.auth_uri}"'},
                )
            environ[SERVICE_KEY] = self.service
            # PATH_INFO is already percent-decoded by the WSGI server.
            resp = handler(req, **match.groupdict())
            return resp(environ, start_response)
        raise exceptions.NotFound(f"The resource could not be found: {path}")
