"""Microversion negotiation (``OpenStack-API-Version``), as compute and placement do it.

A service declares a ``VersionRange``; each request gets ``environ['nubis.version']``
set to the version it asked for (``latest`` = max, none = min). Versions outside
the range answer 406, a malformed header 400. Responses name the version served
and ``Vary`` on the headers that chose it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from nubis.common import exceptions

ENV_KEY = "nubis.version"
HEADER = "OpenStack-API-Version"

_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class Version(NamedTuple):
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION_RE.match(text.strip())
        if not match:
            raise exceptions.BadRequest(
                f"Invalid API version '{text}': it must look like 'MAJOR.MINOR' (e.g. '2.1') or 'latest'."
            )
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def matches(self, minimum: str | Version | None = None, maximum: str | Version | None = None) -> bool:
        lo = Version.parse(minimum) if isinstance(minimum, str) else minimum
        hi = Version.parse(maximum) if isinstance(maximum, str) else maximum
        return (lo is None or self >= lo) and (hi is None or self <= hi)


@dataclasses.dataclass(frozen=True)
class VersionRange:
    service_type: str  # the word in "OpenStack-API-Version: compute 2.10"
    minimum: Version
    maximum: Version
    legacy_header: str | None = None  # e.g. "X-OpenStack-Nova-API-Version"

    def negotiate(self, headers: dict[str, str]) -> Version | None:
        """The version a request asked for, or None when it did not ask."""
        requested = None
        value = headers.get(HEADER.lower())
        if value:
            for part in value.split(","):
                words = part.strip().split()
                if len(words) == 2 and words[0].lower() == self.service_type:
                    requested = words[1]
        if requested is None and self.legacy_header:
            requested = headers.get(self.legacy_header.lower())
        if requested is None:
            return None
        if requested.strip().lower() == "latest":
            return self.maximum
        version = Version.parse(requested)
        if not version.matches(self.minimum, self.maximum):
            raise exceptions.NotAcceptable(
                f"Version {version} is not supported by the API. Minimum is {self.minimum} "
                f"and maximum is {self.maximum}."
            )
        return version


class MicroversionMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], versions: VersionRange) -> None:
        self.app = app
        self.versions = versions

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        version = self.versions.negotiate(headers) or self.versions.minimum
        environ[ENV_KEY] = version
        vr = self.versions

        def _start_response(status: str, resp_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            resp_headers = list(resp_headers)
            resp_headers.append((HEADER, f"{vr.service_type} {version}"))
            vary = [HEADER]
            if vr.legacy_header:
                resp_headers.append((vr.legacy_header, str(version)))
                vary.append(vr.legacy_header)
            resp_headers.append(("Vary", ", ".join(vary)))
            return start_response(status, resp_headers, exc_info)

        return self.app(environ, _start_response)
