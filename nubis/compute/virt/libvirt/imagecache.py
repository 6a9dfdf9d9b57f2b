"""The per-host cache of base images guests boot from.

Entries are content-addressed (image id + the image's own hash), so a changed
image never reuses a stale file. A lock file per entry makes concurrent boots
of the same image — threads in one agent or several agent processes — download
once; the others wait and reuse. Data lands in a temporary file, is verified
against ``os_hash_value`` while it streams, and only then renamed into place,
so a failed or corrupt download never leaves a usable-looking file behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO

LOG = logging.getLogger(__name__)

Download = Callable[[BinaryIO], None]  # writes the image bytes into the file it is given


class ImageVerificationFailed(RuntimeError):
    pass


class ImageCache:
    def __init__(self, base_dir: str) -> None:
        self.base_dir = base_dir
        if not os.path.isdir(base_dir):
            os.makedirs(base_dir, mode=0o755, exist_ok=True)
            os.chmod(base_dir, 0o755)  # QEMU's user reads the backing files; the process umask is 077

    def path_for(self, image_id: str, hash_value: str) -> str:
        return os.path.join(self.base_dir, f"{image_id}-{hash_value[:24]}")

    @contextlib.contextmanager
    def _locked(self, path: str) -> Iterator[None]:
        with open(path + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def fetch(self, image_id: str, hash_algo: str, hash_value: str, download: Download) -> str:
        """The cached base file for the image, downloading it at most once."""
        path = self.path_for(image_id, hash_value)
        if os.path.exists(path):
            os.utime(path)  # most recently used, for the cleanup below
            return path
        with self._locked(path):
            if os.path.exists(path):  # someone else downloaded it while we waited
                return path
            hasher = hashlib.new(hash_algo)
            fd, tmp = tempfile.mkstemp(dir=self.base_dir, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as raw:
                    download(_HashingWriter(raw, hasher))  # type: ignore[arg-type]
                    raw.flush()
                    os.fsync(raw.fileno())
                if hasher.hexdigest() != hash_value:
                    raise ImageVerificationFailed(
                        f"image {image_id}: {hash_algo} of the downloaded data is {hasher.hexdigest()[:16]}..., "
                        f"the image service says {hash_value[:16]}..."
                    )
                os.chmod(tmp, 0o644)
                os.rename(tmp, path)
                LOG.info("Cached image %s at %s", image_id, path)
                return path
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path + ".lock")

    def remove_unused(self, in_use: set[str], max_age_s: float) -> list[str]:
        """Delete cached bases no instance uses and nobody touched for ``max_age_s``."""
        removed = []
        now = time.time()
        for name in os.listdir(self.base_dir):
            path = os.path.join(self.base_dir, name)
            if name.startswith(".") or name.endswith(".lock") or path in in_use:
                continue
            if now - os.path.getmtime(path) > max_age_s:
                os.unlink(path)
                removed.append(path)
        return removed


class _HashingWriter:
    def __init__(self, raw: BinaryIO, hasher: hashlib._Hash) -> None:
        self._raw = raw
        self._hasher = hasher

    def write(self, data: bytes) -> int:
        self._hasher.update(data)
        return self._raw.write(data)
