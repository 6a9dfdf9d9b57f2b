"""The one error hierarchy of Nubis' service-to-service clients (``nubis.common.clients.*``).

A client raises ``ServiceClientError`` (or a subclass naming the service) when the other service answers
something the caller cannot act on; errors that belong to the caller's request (a 400 the user caused, a
missing network) are raised as ``nubis.common.exceptions`` errors instead, so the API renders them.
"""

from __future__ import annotations

from typing import Any


class ServiceClientError(Exception):
    """Another service refused or failed a call. ``status_code`` is its HTTP status (None when it gave none)."""

    service = "service"

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code

    @classmethod
    def from_response(cls, what: str, resp: Any) -> ServiceClientError:
        """``<service> answered <status> to <what>: <start of the body>``."""
        return cls(f"{cls.service} answered {resp.status_code} to {what}: {resp.text[:300]}", resp.status_code)


class PlacementError(ServiceClientError):
    service = "placement"
