"""Errors that carry an HTTP status, raised by service cores and handlers.

A service core raises these; the fault middleware of the service's API turns
them into that API's own error body (compute's ``{"itemNotFound": ...}``,
identity's ``{"error": ...}``, network's ``{"NeutronError": ...}``, ...).
``error_type`` is the machine-readable name some APIs expose (Neutron's
``type``, placement's ``code``).
"""

from __future__ import annotations

from typing import ClassVar


class NubisError(Exception):
    """Base of errors a caller can be told about."""

    code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, message: str, error_type: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type or type(self).__name__
        self.headers = headers or {}


class BadRequest(NubisError):
    code = 400
    title = "Bad Request"


class Unauthorized(NubisError):
    code = 401
    title = "Unauthorized"


class Forbidden(NubisError):
    code = 403
    title = "Forbidden"


class NotFound(NubisError):
    code = 404
    title = "Not Found"


class MethodNotAllowed(NubisError):
    code = 405
    title = "Method Not Allowed"


class NotAcceptable(NubisError):
    code = 406
    title = "Not Acceptable"


class Conflict(NubisError):
    code = 409
    title = "Conflict"


class ServiceTooOld(Conflict):
    """The action needs an RPC version the services still on the older release do not speak."""


class PreconditionFailed(NubisError):
    code = 412
    title = "Precondition Failed"


class RequestEntityTooLarge(NubisError):
    code = 413
    title = "Request Entity Too Large"


class UnsupportedMediaType(NubisError):
    code = 415
    title = "Unsupported Media Type"


class RangeNotSatisfiable(NubisError):
    code = 416
    title = "Requested Range Not Satisfiable"


class NotImplementedYet(NubisError):
    code = 501
    title = "Not Implemented"


class ServiceUnavailable(NubisError):
    code = 503
    title = "Service Unavailable"


class InternalError(NubisError):
    code = 500
    title = "Internal Server Error"
