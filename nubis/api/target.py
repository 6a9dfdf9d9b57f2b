"""400 for a request path or query string that is not UTF-8 once percent-decoded.

PEP 3333 hands the path over as latin-1 and the query string still encoded;
webob decodes both as UTF-8 when a handler (or a middleware) first reads
them, and ``?x=%ff`` then fails deep inside as a ``UnicodeDecodeError``.
Checking once, up front, gives the caller a 400 in the API's own format.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from nubis.common import exceptions


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Utf8TargetMiddleware:
    """Rejects a path or query string that does not decode as UTF-8."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        for key in ("SCRIPT_NAME", "PATH_INFO"):
            try:
                valid = _is_utf8(environ.get(key, "").encode("latin-1"))
            except UnicodeEncodeError:
                valid = False  # not what a PEP 3333 server gives: not a path we can route
            if not valid:
                raise exceptions.BadRequest("The request path is not valid UTF-8 once percent-decoded.")
        query = environ.get("QUERY_STRING", "")
        if query and not _is_utf8(urllib.parse.unquote_to_bytes(query.replace("+", " "))):
            raise exceptions.BadRequest("The query string is not valid UTF-8 once percent-decoded.")
        return self.app(environ, start_response)
