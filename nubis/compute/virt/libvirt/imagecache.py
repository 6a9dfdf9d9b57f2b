"""The per-host cache of base images guests boot from.

Entries are content-addressed (image id + the image's own hash), so a changed
image never reuses a stale file. A lock file per entry makes concurrent boots
of the same image — threads in one agent or several agent processes — download
once; the others wait and reuse. Data lands in a temporary file, is verified
against ``os_hash_value`` while it streams, and only then renamed into place,
so a failed or corrupt download never leaves a usable-looking file behind.

Clean-up follows Nova's image cache manager: every pass touches the bases
some guest of this host still uses (a qcow2 overlay's backing file, a kernel
or ramdisk its domain boots), so an entry's mtime says when it was last
used, and removes the ones unused for longer than
``[libvirt] remove_unused_base_images_after``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from nubis.compute.virt.libvirt import disks

LOG = logging.getLogger(__name__)

Download = Callable[[BinaryIO], None]  # writes the image bytes into the file it is given


class ImageVerificationFailed(RuntimeError):
    pass


class ImageCache:
    def __init__(self, base_dir: str) -> None:
        self.base_dir = os.path.abspath(base_dir)  # as the overlays name their backing files
        if not os.path.isdir(self.base_dir):
            os.makedirs(self.base_dir, mode=0o755, exist_ok=True)
            os.chmod(self.base_dir, 0o755)  # QEMU's user reads the backing files; the process umask is 077

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
        with contextlib.suppress(FileNotFoundError):  # else just removed as unused: download it again
            os.utime(path)  # most recently used, for the clean-up below
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

    def manage(self, in_use: set[str], max_age_s: float) -> list[str]:
        """One pass of the image cache manager: mark the entries in ``in_use`` used now, and remove the
        entries nobody used for more than ``max_age_s`` seconds (0: never remove). The paths removed."""
        for path in in_use:
            if os.path.dirname(path) == self.base_dir:
                with contextlib.suppress(FileNotFoundError):
                    os.utime(path)
        return self.remove_unused(in_use, max_age_s) if max_age_s else []

    def remove_unused(self, in_use: set[str], max_age_s: float) -> list[str]:
        """Delete cached bases not in ``in_use`` whose last use (mtime) is more than ``max_age_s`` seconds ago."""
        removed = []
        now = time.time()
        for name in sorted(os.listdir(self.base_dir)):
            path = os.path.join(self.base_dir, name)
            if name.startswith(".") or name.endswith(".lock") or path in in_use:
                continue
            try:
                age = now - os.path.getmtime(path)
                if age > max_age_s:
                    os.unlink(path)
            except FileNotFoundError:
                continue
            if age > max_age_s:
                LOG.info("Removed cached base %s, unused for %d s", path, age)
                removed.append(path)
        return removed


def files_in_use(instances_dir: str, guest_files: Iterable[str] = ()) -> set[str]:
    """Every file the guests of this host use, as absolute paths: the backing chains of the disks in the
    instance directories under ``instances_dir`` and of ``guest_files`` (what the defined guests name:
    disks, kernels, ramdisks), and ``guest_files`` themselves.

    A disk qemu-img cannot read is logged and skipped; its base then ages like an unused one, so one bad
    file cannot stop the clean-up of all the others.
    """
    disks_seen: list[str] = []
    for entry in sorted(os.listdir(instances_dir)):
        workdir = os.path.join(instances_dir, entry)
        if entry.startswith((".", "_")) or not os.path.isdir(workdir):
            continue  # the cache itself (_base), snapshots being written
        disks_seen += [os.path.join(workdir, name) for name in sorted(os.listdir(workdir))
                       if name.startswith("disk")]
    used = {os.path.abspath(p) for p in guest_files}
    for path in {*disks_seen, *used}:
        try:
            used.update(os.path.abspath(b) for b in disks.backing_files(path))
        except (disks.DiskError, OSError) as exc:
            if os.path.exists(path):
                LOG.warning("Cannot read the backing chain of %s: %s", path, exc)
    return used


class _HashingWriter:
    def __init__(self, raw: BinaryIO, hasher: hashlib._Hash) -> None:
        self._raw = raw
        self._hasher = hasher

    def write(self, data: bytes) -> int:
        self._hasher.update(data)
        return self._raw.write(data)
