"""One INFO line per request, as nova-api's request log has it: who asked for what, the answer, how long.

It sits right inside the request id middleware, so the line carries the
request id and (once auth has run) the caller, like every other line of the
request. Only the method, path and query string are logged: credentials
travel in headers and bodies, never here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

LOG = logging.getLogger(__name__)

MAX_TARGET = 2048  # characters of path and query logged; a longer one is cut


class AccessLogMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        began = time.monotonic()
        answer: dict[str, str] = {}

        def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"] = status.split(" ", 1)[0]
            answer["len"] = next((v for k, v in headers if k.lower() == "content-length"), "-")
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, _start_response)
        finally:
            LOG.info('%s "%s %s" status: %s len: %s time: %.3f', environ.get("REMOTE_ADDR", "-"),
                     _printable(environ.get("REQUEST_METHOD", "")), _target(environ), answer.get("status", "-"),
                     answer.get("len", "-"), time.monotonic() - began)


def _target(environ: dict[str, Any]) -> str:
    query = environ.get("QUERY_STRING")
    target = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
    if len(target) > MAX_TARGET:
        target = target[:MAX_TARGET] + "..."
    return _printable(target)


def _printable(text: str) -> str:
    # The path arrives percent-decoded: a %0A in it must not start a forged log line.
    return text.encode("unicode_escape").decode("ascii")
