"""Reading large request bodies fast.

cheroot decodes ``Transfer-Encoding: chunked`` into a buffer and serves
``read(n)`` by slicing it, which copies the rest of the buffer on every call
whose ``n`` is smaller than the client's chunk, and concatenates when it is
larger: reading a multi-GiB body that way costs more than hashing it. The
stream returned here hands out each decoded chunk whole instead (``read1``
semantics: at most ``size`` bytes, whatever one transfer chunk gave).
"""

from __future__ import annotations

from typing import Any

from cheroot import server as cheroot_server


class _WholeChunks:
    def __init__(self, chunked: cheroot_server.ChunkedRFile) -> None:
        self._chunked = chunked

    def read(self, size: int = -1) -> bytes:
        source = self._chunked
        if not source.buffer:
            source._fetch()  # noqa: SLF001 - the one way to get a decoded chunk without a copy
        piece = source.buffer
        if 0 <= size < len(piece):
            piece, source.buffer = piece[:size], piece[size:]
        else:
            source.buffer = b""
        return piece  # type: ignore[no-any-return]

    def readinto(self, buffer: memoryview) -> int:
        """Copy up to ``len(buffer)`` decoded bytes into ``buffer``; 0 at the end of the body."""
        piece = self.read(len(buffer))
        buffer[:len(piece)] = piece
        return len(piece)


def input_stream(environ: dict[str, Any]) -> Any:
    """``wsgi.input``; for a chunked body under cheroot a reader that does not re-copy chunks, with ``readinto``.

    A Content-Length body is read through cheroot's own reader: reading it straight into the caller's
    buffer (``rfile.readinto``) failed in Python's buffered reader on some bodies."""
    stream = environ["wsgi.input"]
    if isinstance(stream, cheroot_server.ChunkedRFile):
        return _WholeChunks(stream)
    return stream
