"""413 for request bodies over the limit, declared or streamed (chunked)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nubis.common import exceptions


class _LimitedInput:
    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._left = limit

    def _take(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise exceptions.RequestEntityTooLarge("Request body is larger than the limit this API accepts.")
        return data

    def read(self, size: int = -1) -> bytes:
        return self._take(self._stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._take(self._stream.readline(size))

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class SizeLimitMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], limit: int,
                 exempt: Callable[[dict[str, Any]], bool] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt or (lambda environ: False)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.limit and not self.exempt(environ):
            length = environ.get("CONTENT_LENGTH")
            if length and length.isdigit() and int(length) > self.limit:
                raise exceptions.RequestEntityTooLarge(
                    f"Request body of {length} bytes is over the {self.limit}-byte limit this API accepts."
                )
            if "wsgi.input" in environ:
                environ["wsgi.input"] = _LimitedInput(environ["wsgi.input"], self.limit)
                # The wrapper cannot seek; webob must copy the body before re-reading it.
                environ["webob.is_body_seekable"] = False
        return self.app(environ, start_response)
