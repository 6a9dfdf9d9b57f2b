"""Streaming image data in and out: hashes and size computed on the way, limits enforced as bytes arrive."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

from nubis.common import exceptions

# Bodies are read in pieces this big: fewer, larger hash updates and writes.
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


def hashed(chunks: Iterator[bytes], digest: Digest, limit: int, over_limit: Callable[[int], Exception]) -> Iterator[bytes]:
    """Pass chunks through, hashing and counting; raise ``over_limit(size)`` past ``limit`` bytes.

    The two hashes of a chunk run in two threads (hashlib lets go of the GIL
    on large buffers) while the consumer writes the chunk, so on a multi-core
    host the upload costs about one hash instead of two plus the write. The
    digest is complete when the generator is exhausted.
    """
    with ThreadPoolExecutor(2, thread_name_prefix="image-hash") as pool:
        pending: list[Future[None]] = []
        for chunk in chunks:
            digest.size += len(chunk)
            if digest.size > limit:
                raise over_limit(digest.size)
            for update in pending:  # a hash object takes its chunks one at a time, in order
                update.result()
            pending = [pool.submit(digest.md5.update, chunk), pool.submit(digest.multihash.update, chunk)]
            yield chunk
        for update in pending:
            update.result()


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
