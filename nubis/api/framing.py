"""Where an HTTP/1.1 request ends, judged from the bytes received so far.

The server's front (``nubis.api.front``) reads requests without a thread and
hands one to a worker only once it is whole. This module answers the one
question it asks after every read: is the head complete, and is the body
(when it is small enough to be read up front) complete too? It parses only
the framing (RFC 9112 section 6: Content-Length, chunked Transfer-Encoding,
``Expect: 100-continue``); everything else is cheroot's job once a worker
has the request.
"""

from __future__ import annotations

import dataclasses
import enum

CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 65536  # request line + headers; keystone tokens fit many times over


class Verdict(enum.Enum):
    INCOMPLETE = "incomplete"  # wait for more bytes
    READY = "ready"  # hand to a worker (whole, or too large to buffer: the app streams or rejects it)
    HEAD_TOO_LARGE = "head_too_large"  # answer 431 and close


@dataclasses.dataclass(frozen=True)
class Head:
    """The framing facts of one request head."""

    end: int  # offset just after the blank line that ends the head
    content_length: int | None
    chunked: bool
    expect_continue: bool
    malformed: bool  # framing cheroot must reject (conflicting or invalid lengths)
    expect_line: tuple[int, int] | None  # offsets of the "Expect: 100-continue" line, CRLF included


def _skip_blank_lines(buf: bytes | bytearray) -> int:
    # RFC 9112 2.2: a server ignores at least one empty line before the request line.
    start = 0
    while buf.startswith(CRLF, start):
        start += 2
    return start


def parse_head(buf: bytes | bytearray) -> Head | None:
    """The head at the start of ``buf``, or None while its blank line has not arrived."""
    start = _skip_blank_lines(buf)
    end = buf.find(HEAD_END, start)
    if end < 0:
        return None
    content_length: int | None = None
    chunked = expect_continue = malformed = False
    expect_line = None
    pos = buf.find(CRLF, start) + 2  # after the request line
    while pos < end + 2:
        line_end = buf.find(CRLF, pos)
        name, _, value = bytes(buf[pos:line_end]).partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            if content_length is not None or not value.isdigit():
                malformed = True
            else:
                content_length = int(value)
        elif name == b"transfer-encoding":
            chunked = chunked or b"chunked" in value.lower()
        elif name == b"expect" and value.lower() == b"100-continue":
            expect_continue, expect_line = True, (pos, line_end + 2)
        pos = line_end + 2
    return Head(end + 4, content_length, chunked, expect_continue, malformed, expect_line)


def _chunked_body_complete(body: bytes | bytearray) -> bool | None:
    """True when ``body`` holds a whole chunked body, False when more is due, None when it is malformed."""
    pos = 0
    while True:
        line_end = body.find(CRLF, pos)
        if line_end < 0:
            return False
        size_text = bytes(body[pos:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        pos = line_end + 2
        if size == 0:
            break
        pos += size + 2  # data and its CRLF
        if pos > len(body):
            return False
    # Trailer fields, then the final empty line.
    while True:
        line_end = body.find(CRLF, pos)
        if line_end < 0:
            return False
        if line_end == pos:
            return True
        pos = line_end + 2


def judge(buf: bytes | bytearray, body_limit: int) -> tuple[Verdict, Head | None]:
    """Whether the request at the start of ``buf`` can go to a worker.

    Bodies up to ``body_limit`` bytes are waited for; a larger one is handed
    over after the head, so the application can refuse it (413, 401) or
    stream it (image data) without this buffer holding it.
    """
    head = parse_head(buf)
    if head is None:
        too_long = len(buf) - _skip_blank_lines(buf) > MAX_HEAD_BYTES
        return (Verdict.HEAD_TOO_LARGE if too_long else Verdict.INCOMPLETE), None
    if head.end > MAX_HEAD_BYTES:
        return Verdict.HEAD_TOO_LARGE, head
    if head.malformed:
        return Verdict.READY, head
    received = len(buf) - head.end
    if head.chunked:
        if received > body_limit:
            return Verdict.READY, head
        complete = _chunked_body_complete(buf[head.end:])
        return (Verdict.INCOMPLETE if complete is False else Verdict.READY), head
    if head.content_length is None or head.content_length > body_limit:
        return Verdict.READY, head
    return (Verdict.READY if received >= head.content_length else Verdict.INCOMPLETE), head
