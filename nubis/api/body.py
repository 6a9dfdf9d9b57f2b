"""Reading large request bodies fast: straight from the connection into the caller's buffer.

cheroot reads request bodies through ``_pyio.BufferedReader``, the pure-Python
buffered reader: a ``read(n)`` larger than its 8 KiB buffer allocates a
zeroed ``n``-byte ``bytearray`` for every ``recv`` (a loopback ``recv``
returns 64-256 KiB, so a 1 MiB chunk costs several MiB of allocation), copies
each piece into ``bytes`` and joins them; its chunked decoder then copies the
chunk again into its own buffer. Profiled under an image upload, that was
most of the request thread's time. :func:`input_stream` instead gives the
application a ``readinto`` that takes the few bytes cheroot already buffered
from its buffer, and otherwise ``recv``\\ s the body's data straight into the
caller's buffer (one copy, kernel to buffer), decoding chunked framing itself.
It never reads past the body's end, so a pipelined next request stays with
the server.
"""

from __future__ import annotations

import _pyio
import io
from typing import Any

from cheroot import errors as cheroot_errors
from cheroot import server as cheroot_server

MAX_LINE = 4096  # bytes of one chunk-size or trailer line
MAX_TRAILERS = 65536  # bytes of trailer fields after the last chunk


class _Connection:
    """cheroot's buffered reader of a connection, and its raw socket reader behind it."""

    def __init__(self, rfile: Any) -> None:
        self._rfile = rfile
        self._raw = rfile.raw

    def recv_into(self, view: memoryview) -> int:
        """Up to ``len(view)`` bytes into ``view``: cheroot's buffered bytes first, else one ``recv``.

        0 means the client closed the connection; a timeout raises ``OSError``.
        """
        rfile = self._rfile
        buffered = len(rfile._read_buf) - rfile._read_pos  # noqa: SLF001 - nothing public says how much is buffered
        if buffered > 0:
            data = rfile.read(min(buffered, len(view)))
            view[:len(data)] = data
            return len(data)
        n = self._raw.readinto(view)
        if n is None:  # a non-blocking socket with nothing to read: the server gave it no timeout
            raise OSError("the client sent nothing")
        rfile.bytes_read = getattr(rfile, "bytes_read", 0) + n
        return int(n)

    def readline(self) -> bytes:
        line = self._rfile.readline(MAX_LINE)
        if not line.endswith(b"\n"):
            raise ValueError("bad chunked transfer coding: a line too long, or the body ended in one")
        return bytes(line)

    def read_exactly(self, n: int) -> bytes:
        data = self._rfile.read(n)
        if len(data) != n:
            raise ValueError("the body ended early")
        return bytes(data)


class KnownLengthBody:
    """A ``Content-Length`` body read straight into the caller's buffers."""

    def __init__(self, source: cheroot_server.KnownLengthRFile) -> None:
        self._source = source  # its ``remaining`` stays right: cheroot and the front read it
        self._conn = _Connection(source.rfile)

    def readinto(self, buffer: memoryview) -> int:
        """Up to ``len(buffer)`` bytes of the body into ``buffer``; 0 at its end or when the client left."""
        want = min(len(buffer), self._source.remaining or 0)
        if want <= 0:
            return 0
        n = self._conn.recv_into(buffer[:want])
        self._source.remaining -= n
        return n

    def read(self, size: int = -1) -> bytes:
        buffer = bytearray(io.DEFAULT_BUFFER_SIZE * 128 if size is None or size < 0 else size)
        return bytes(buffer[:self.readinto(memoryview(buffer))])


class ChunkedBody:
    """A ``Transfer-Encoding: chunked`` body, decoded into the caller's buffers (RFC 9112 section 7.1).

    Chunk-size lines, chunk extensions and trailer fields are read through
    cheroot's buffered reader (they are short); chunk data is ``recv``'d in
    place. Malformed framing raises ``ValueError``; a body over the server's
    ``max_request_body_size`` raises cheroot's ``MaxSizeExceeded``.
    """

    def __init__(self, source: cheroot_server.ChunkedRFile) -> None:
        self._source = source  # ``closed`` tells the front the body was read to its end
        self._conn = _Connection(source.rfile)
        self._left = 0  # data bytes of the current chunk not yet read
        self._in_chunk = False  # a chunk's data was read: its CRLF is due

    def readinto(self, buffer: memoryview) -> int:
        """Up to ``len(buffer)`` decoded bytes into ``buffer``; 0 at the end of the body."""
        source = self._source
        if source.buffer:  # decoded already by cheroot (someone read through it first)
            n = min(len(buffer), len(source.buffer))
            buffer[:n] = source.buffer[:n]
            source.buffer = source.buffer[n:]
            return n
        if self._left == 0:
            if source.closed or not self._next_chunk():
                return 0
        n = self._conn.recv_into(buffer[:min(len(buffer), self._left)])
        if n == 0:
            raise ValueError(f"the client closed the connection {self._left} bytes into a chunk")
        self._left -= n
        source.bytes_read += n
        return n

    def read(self, size: int = -1) -> bytes:
        buffer = bytearray(io.DEFAULT_BUFFER_SIZE * 128 if size is None or size < 0 else size)
        return bytes(buffer[:self.readinto(memoryview(buffer))])

    def _next_chunk(self) -> bool:
        """Read up to the next chunk's data; False (and the trailers read) after the last chunk."""
        conn, source = self._conn, self._source
        if self._in_chunk and conn.read_exactly(2) != b"\r\n":
            raise ValueError("bad chunked transfer coding: a chunk's data is not followed by CRLF")
        self._in_chunk = False
        line = conn.readline()
        size_text = line.split(b";", 1)[0].strip()
        if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
            raise ValueError(f"bad chunked transfer size {size_text[:20]!r}")
        size = int(size_text, 16)
        source.bytes_read += len(line)
        if source.maxlen and source.bytes_read + size > source.maxlen:
            raise cheroot_errors.MaxSizeExceeded("Request Entity Too Large", source.maxlen)
        if size == 0:
            self._read_trailers()
            source.closed = True
            return False
        self._left, self._in_chunk = size, True
        return True

    def _read_trailers(self) -> None:
        total = 0
        while (line := self._conn.readline()) not in (b"\r\n", b"\n"):
            total += len(line)
            if total > MAX_TRAILERS:
                raise ValueError("bad chunked transfer coding: too many trailer fields")


def input_stream(environ: dict[str, Any]) -> Any:
    """``wsgi.input`` with a ``readinto`` that reads the body from the socket into the caller's buffer.

    Under cheroot (whose readers are ``_pyio`` ones over the socket) a
    :class:`ChunkedBody` or :class:`KnownLengthBody`; any other server's
    ``wsgi.input`` as it is.
    """
    stream = environ["wsgi.input"]
    rfile = getattr(stream, "rfile", None)
    if not (isinstance(rfile, _pyio.BufferedReader) and hasattr(rfile, "_read_buf")
            and isinstance(getattr(rfile, "raw", None), io.RawIOBase | _pyio.RawIOBase)):
        return stream
    if isinstance(stream, cheroot_server.ChunkedRFile):
        return ChunkedBody(stream)
    if isinstance(stream, cheroot_server.KnownLengthRFile):
        return KnownLengthBody(stream)
    return stream
