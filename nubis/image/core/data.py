"""Streaming image data in and out: hashes and size computed on the way, limits enforced as bytes arrive."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

from nubis.common import exceptions
from nubis.image.core import pipeline

# Staged bodies are read in pieces this big.
READ_CHUNK = 1024 * 1024


class UploadAborted(exceptions.BadRequest):
    """The client sent less than it announced, or went away."""


@dataclasses.dataclass
class Digest:
    size: int = 0
    md5: Any = dataclasses.field(default_factory=hashlib.md5)
    multihash: Any = None


def chunks_from(stream: BinaryIO | Any, expected: int | None) -> Iterator[bytes]:
    """Chunks of a request body: up to ``expected`` bytes, or to EOF for a chunked body."""
    left = expected
    while left is None or left > 0:
        try:
            data = stream.read(READ_CHUNK if left is None else min(READ_CHUNK, left))
        except (OSError, ValueError) as exc:
            raise UploadAborted(f"The upload was interrupted: {exc}") from None
        if not data:
            if left:
                raise UploadAborted(f"The upload ended {left} bytes short of its Content-Length.")
            return
        if left is not None:
            left -= len(data)
        yield data


def stream_filler(stream: BinaryIO | Any, expected: int | None) -> pipeline.Fill:
    """A pipeline fill reading a request body in place: up to ``expected`` bytes, or to EOF for a chunked body.

    Each buffer is filled as far as the body allows (fewer, larger hash
    updates and writes). Raises :class:`UploadAborted` when the body ends
    short of ``expected`` or the connection fails.
    """
    left = expected
    readinto = getattr(stream, "readinto", None) or _copying_readinto(stream)

    def fill(buffer: memoryview) -> int:
        nonlocal left
        want = len(buffer) if left is None else min(len(buffer), left)
        got = 0
        while got < want:
            try:
                n = readinto(buffer[got:want])
            except (OSError, ValueError) as exc:
                raise UploadAborted(f"The upload was interrupted: {exc}") from None
            if not n:
                if left is not None and left > got:
                    raise UploadAborted(f"The upload ended {left - got} bytes short of its Content-Length.")
                break
            got += n
        if left is not None:
            left -= got
        return got

    return fill


def chunk_filler(chunks: Iterable[bytes]) -> pipeline.Fill:
    """A pipeline fill copying from an iterable of byte strings of any size (web-download, staging)."""
    source = iter(chunks)
    rest = memoryview(b"")

    def fill(buffer: memoryview) -> int:
        nonlocal rest
        got = 0
        while got < len(buffer):
            if not rest:
                chunk = next(source, None)
                if chunk is None:
                    break
                rest = memoryview(chunk)
                continue
            n = min(len(rest), len(buffer) - got)
            buffer[got:got + n] = rest[:n]
            rest, got = rest[n:], got + n
        return got

    return fill


def _copying_readinto(stream: Any) -> Callable[[memoryview], int]:
    def readinto(buffer: memoryview) -> int:
        piece = stream.read(len(buffer))
        buffer[:len(piece)] = piece
        return len(piece)
    return readinto


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(offset, length) for a single ``bytes=`` range; None for no range; 416 when unsatisfiable."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        raise exceptions.RangeNotSatisfiable(f"Only a single bytes range is supported, not {header!r}.",
                                             headers={"Content-Range": f"bytes */{size}"})
    start_text, _, end_text = spec.strip().partition("-")
    try:
        if start_text == "":
            length = int(end_text)
            start, end = max(size - length, 0), size - 1
        else:
            start = int(start_text)
            end = int(end_text) if end_text else size - 1
    except ValueError:
        raise exceptions.RangeNotSatisfiable(f"Malformed Range header {header!r}.",
                                             headers={"Content-Range": f"bytes */{size}"}) from None
    end = min(end, size - 1)
    if start > end or start >= size:
        raise exceptions.RangeNotSatisfiable(f"Range {header!r} is outside the image's {size} bytes.",
                                             headers={"Content-Range": f"bytes */{size}"})
    return start, end - start + 1
