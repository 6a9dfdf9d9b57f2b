"""Image data stores: a small interface, and the filesystem store.

Writes go to a temporary file in the same directory, are fsync'd, then
renamed into place: a reader never sees half an image, and a failed or
aborted upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

CHUNK = 1024 * 1024  # read size for downloads: fewer, larger writes to the socket


class StoreFull(Exception):
    """The store ran out of space."""


class Store(Protocol):
    name: str

    def add(self, key: str, chunks: Iterable[bytes]) -> int: ...

    def writer(self, key: str) -> contextlib.AbstractContextManager[Callable[[memoryview], None]]: ...

    def open(self, key: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]: ...

    def delete(self, key: str) -> None: ...

    def size(self, key: str) -> int: ...


class FilesystemStore:
    name = "file"

    def __init__(self, directory: str) -> None:
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    def _path(self, key: str) -> str:
        if "/" in key or key.startswith("."):
            raise ValueError(f"bad store key {key!r}")
        return os.path.join(self.directory, key)

    def add(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write every chunk; the data appears under ``key`` only when all of it is on disk."""
        written = 0
        with self.writer(key) as write:
            for chunk in chunks:
                write(memoryview(chunk))
                written += len(chunk)
        return written

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[Callable[[memoryview], None]]:
        """A ``write(piece)`` for the data of ``key``, published when the block ends without an exception.

        The pieces go to a temporary file, unbuffered (they are large: a
        buffer would only copy them), fsync'd and renamed into place at the
        end; an exception in the block removes the file. Raises
        :class:`StoreFull` when the disk or quota runs out.
        """
        temp = os.path.join(self.directory, f".{key}.{uuid.uuid4().hex}.partial")
        target = self._path(key)
        try:
            with open(temp, "wb", buffering=0) as f:
                def write(piece: memoryview) -> None:
                    while piece:
                        piece = piece[f.write(piece):]
                yield write
                os.fsync(f.fileno())
            os.rename(temp, target)
        except OSError as exc:
            _remove(temp)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreFull(f"the image store {self.directory} is full") from None
            raise
        except BaseException:
            _remove(temp)
            raise

    def open(self, key: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        f = open(self._path(key), "rb")  # noqa: SIM115 - closed by the generator

        def chunks() -> Iterator[bytes]:
            with f:
                f.seek(offset)
                left = length
                while left is None or left > 0:
                    data = f.read(CHUNK if left is None else min(CHUNK, left))
                    if not data:
                        return
                    if left is not None:
                        left -= len(data)
                    yield data

        return chunks()

    def delete(self, key: str) -> None:
        _remove(self._path(key))

    def size(self, key: str) -> int:
        return os.path.getsize(self._path(key))

    def exists(self, key: str) -> bool:
        return os.path.exists(self._path(key))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


StoreFactory = Callable[[], Store]
