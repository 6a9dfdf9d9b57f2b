"""Image data stores: a small interface, and the filesystem store.

Writes go to a temporary file in the same directory, are fdatasync'd, then
renamed into place (and the directory fsync'd): a reader never sees half an
image, an image marked active survives a crash, and a failed or aborted
upload leaves nothing behind. Writeback starts while the data still arrives
(see :data:`WRITEBACK_WINDOW`), so the final fdatasync waits only for the
last few MiB instead of the whole image.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

CHUNK = 1024 * 1024  # read size for downloads: fewer, larger writes to the socket
# Every this many bytes written, the writer asks the kernel to start writing
# the newest window back to disk and to drop the window before it (written
# back by then) from the page cache: the disk works during the upload instead
# of after it, and an image leaves at most two windows of dirty pages behind.
WRITEBACK_WINDOW = 8 * 1024 * 1024


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

    def __init__(self, directory: str, private: bool = False) -> None:
        """A store in ``directory`` (made if missing); ``private``: the directory 0700 and each file 0600,
        whatever the umask (the image cache)."""
        self.directory = directory
        self.file_mode = 0o600 if private else 0o666
        os.makedirs(directory, mode=0o700 if private else 0o777, exist_ok=True)
        if private:
            os.chmod(directory, 0o700)

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
        buffer would only copy them), fdatasync'd (writeback started as it goes) and renamed into place at the
        end; an exception in the block removes the file. Raises
        :class:`StoreFull` when the disk or quota runs out.
        """
        temp = os.path.join(self.directory, f".{key}.{uuid.uuid4().hex}.partial")
        target = self._path(key)
        try:
            with open(temp, "wb", buffering=0, opener=self._opener) as f:
                writeback = _Writeback(f.fileno())

                def write(piece: memoryview) -> None:
                    n = len(piece)
                    while piece:
                        piece = piece[f.write(piece):]
                    writeback.wrote(n)
                yield write
                os.fdatasync(f.fileno())  # data and size on disk before the image can be marked active
            os.rename(temp, target)
            _fsync_directory(self.directory)  # the rename too
        except OSError as exc:
            _remove(temp)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreFull(f"the image store {self.directory} is full") from None
            raise
        except BaseException:
            _remove(temp)
            raise

    def _opener(self, path: str, flags: int) -> int:
        return os.open(path, flags, self.file_mode)

    def keys(self) -> list[str]:
        """The keys of the data held (no temporary files)."""
        return [name for name in os.listdir(self.directory) if not name.startswith(".")]

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


class _Writeback:
    """Starts writeback of each :data:`WRITEBACK_WINDOW` as it fills and drops the one before from the cache.

    ``posix_fadvise(DONTNEED)`` on Linux starts asynchronous writeback of a
    range's dirty pages and evicts its clean ones: on the newest window it
    starts the disk early, on the window before (written back meanwhile) it
    frees the cache. Neither waits; durability still comes from the
    fdatasync at the end. Where the call is missing nothing happens early.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.written = 0
        self.flushed = 0  # bytes whose writeback was started
        self.enabled = hasattr(os, "posix_fadvise")

    def wrote(self, n: int) -> None:
        self.written += n
        if not self.enabled or self.written - self.flushed < WRITEBACK_WINDOW:
            return
        start = max(self.flushed - WRITEBACK_WINDOW, 0)
        try:
            os.posix_fadvise(self.fd, start, self.written - start, os.POSIX_FADV_DONTNEED)
        except OSError:
            self.enabled = False  # a filesystem that does not take the advice: the fdatasync does it all
        self.flushed = self.written


def _fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


StoreFactory = Callable[[], Store]
