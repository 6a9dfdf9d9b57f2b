"""Turning any failure into the service's own error body, never a traceback.

Each API states its error format as a ``FaultFormatter``; the middleware here
catches ``NubisError`` (and webob's HTTP exceptions, and anything unexpected)
and renders it. Unexpected errors are logged with their traceback and answered
with a 500 that names the request id, so an operator can find the log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import webob.exc

from nubis.common import exceptions

LOG = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FaultFormatter(Protocol):
    def __call__(self, status: int, title: str, message: str, error_type: str, request_id: str) -> dict[str, Any]: ...


_NOVA_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def compute_fault(status: int, title: str, message: str, error_type: str, request_id: str) -> dict[str, Any]:
    """Compute v2.1: ``{"itemNotFound": {"message": ..., "code": 404}}``."""
    name = _NOVA_FAULT_NAMES.get(status, "computeFault")
    return {name: {"message": message, "code": status}}


def identity_fault(status: int, title: str, message: str, error_type: str, request_id: str) -> dict[str, Any]:
    """Identity v3: ``{"error": {"code": 404, "title": "Not Found", "message": ...}}``."""
    return {"error": {"code": status, "title": title, "message": message}}


def network_fault(status: int, title: str, message: str, error_type: str, request_id: str) -> dict[str, Any]:
    """Networking v2.0: ``{"NeutronError": {"type": ..., "message": ..., "detail": ""}}``."""
    return {"NeutronError": {"type": error_type, "message": message, "detail": ""}}


def placement_fault(status: int, title: str, message: str, error_type: str, request_id: str) -> dict[str, Any]:
    """Placement: ``{"errors": [{"status", "title", "detail", "code", "request_id"}]}``."""
    code = error_type if error_type.startswith("placement.") else "placement.undefined_code"
    return {
        "errors": [
            {"status": status, "title": title, "detail": message, "code": code, "request_id": request_id}
        ]
    }


def image_fault(status: int, title: str, message: str, error_type: str, request_id: str) -> dict[str, Any]:
    """Image v2 errors in JSON: ``{"error": {"code": 404, "title": "Not Found", "message": ...}}``.

    Every top-level value is an object with a ``message``: glanceclient (and so Horizon) reads a JSON error
    body by asking each top-level value for its ``message``, and fails on a bare string or number there;
    openstacksdk reads the same nested ``message``.
    """
    return identity_fault(status, title, message, error_type, request_id)


def render(formatter: FaultFormatter, status: int, title: str, message: str, error_type: str,
           request_id: str, headers: dict[str, str] | None = None) -> webob.Response:
    body = formatter(status, title, message, error_type, request_id)
    resp = webob.Response(status=status, content_type="application/json", charset="UTF-8")
    resp.body = json.dumps(body).encode()
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def from_exception(formatter: FaultFormatter, exc: BaseException, request_id: str) -> webob.Response:
    """The response for ``exc``: its own status for known errors, 500 otherwise."""
    if isinstance(exc, exceptions.NubisError):
        if exc.code >= 500:
            LOG.error("%s: %s", type(exc).__name__, exc.message)
        return render(formatter, exc.code, exc.title, exc.message, exc.error_type, request_id, exc.headers)
    if isinstance(exc, webob.exc.WSGIHTTPException):  # every webob HTTP error is one
        status = exc.code or 500
        message = exc.detail or exc.explanation or exc.title
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate", "location", "retry-after")}
        return render(formatter, status, exc.title, message, type(exc).__name__, request_id, headers)
    LOG.exception("Unexpected error handling request")
    return render(
        formatter, 500, "Internal Server Error",
        f"An unexpected error prevented the request from completing; the operator can find it in the logs under request id {request_id}.",
        "InternalError", request_id,
    )
