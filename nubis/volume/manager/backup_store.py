"""The backup store of a storage host: one directory (``[volume] backup_dir``, mode 0700), each backup a qcow2
file ``backup-<id>`` (mode 0600) made by ``qemu-img convert`` from the volume's (or snapshot's) raw file.

The source is read in shared mode (``-U``): an in-use volume's NBD export holds its write lock, and the copy is
crash-consistent, as Cinder's forced backup of an in-use volume. qcow2 keeps the copy sparse and compresses it
(``[volume] backup_compression_algorithm``: zlib or zstd, or none).

An incremental backup is a qcow2 overlay whose backing file is its parent's backup, holding only what differs
from it: an empty overlay backed by the volume's file is rebased (safe mode, ``qemu-img rebase``) onto the
parent, which copies into it exactly the data where the volume and the parent differ. Overlays are not
compressed (qemu-img 7's rebase cannot). A restore converts the backup, with its chain, to raw over the volume's
file.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from nubis.volume.manager.backends.base import BackendError
from nubis.volume.manager.backends.files import FileDirectory

# A backup or restore reads or writes a whole volume; bound it so a stuck copy cannot hang the manager.
COPY_TIMEOUT = 3600


class FileBackupStore:
    """Backups as qcow2 files under ``directory``."""

    def __init__(self, directory: str, compression: str = "zlib") -> None:
        self.directory = directory
        self.compression = compression
        self._files = FileDirectory(directory, "a backup of this store")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)

    def _path(self, backup_id: str) -> str:
        return self._files.path("backup", backup_id)

    def _inside(self, location: str) -> str:
        return self._files.inside(location)

    @staticmethod
    def _run(args: list[str], what: str) -> None:
        qemu_img = shutil.which("qemu-img")
        if qemu_img is None:
            raise BackendError("qemu-img is not installed on this storage host (package qemu-utils).")
        try:
            proc = subprocess.run([qemu_img, *args], capture_output=True, text=True, timeout=COPY_TIMEOUT,
                                  check=False)
        except subprocess.TimeoutExpired as e:
            raise BackendError(f"{what} took over {COPY_TIMEOUT} s.") from e
        if proc.returncode != 0:
            raise BackendError(f"{what} failed: {proc.stderr.strip()[:500]}")

    def backup(self, backup_id: str, source_path: str, parent_location: str | None = None) -> str:
        """Copy the raw file ``source_path`` into a new backup (only what differs from the backup at
        ``parent_location`` when given); returns its location. A failed copy leaves nothing behind."""
        path = self._path(backup_id)
        if os.path.exists(path):
            raise BackendError(f"Backup file {path} already exists.")
        tmp = os.path.join(self.directory, f".partial-{backup_id}")
        try:
            if parent_location is None:
                args = ["convert", "-U", "-f", "raw", "-O", "qcow2"]
                if self.compression != "none":
                    args += ["-c", "-o", f"compression_type={self.compression}"]
                self._run([*args, source_path, tmp], f"Backing up {source_path}")
            else:
                parent = self._inside(parent_location)
                size = os.path.getsize(source_path)
                self._run(["create", "-q", "-f", "qcow2", "-u", "-b", os.path.realpath(source_path), "-F", "raw",
                           tmp, str(size)], f"Preparing the incremental backup of {source_path}")
                self._run(["rebase", "-U", "-f", "qcow2", "-b", parent, "-F", "qcow2", tmp],
                          f"Backing up the changes of {source_path} since {parent_location}")
            os.chmod(tmp, 0o600)
            os.rename(tmp, path)
        except (BackendError, OSError) as e:
            self._remove(tmp)
            if isinstance(e, OSError):
                raise BackendError(f"Cannot store backup {backup_id}: {e.strerror}.") from e
            raise
        return path

    def restore(self, location: str, target_path: str) -> None:
        """Write the backup over the raw file ``target_path`` (which is at least the backup's size)."""
        self._run(["convert", "-n", "-f", "qcow2", "-O", "raw", self._inside(location), target_path],
                  f"Restoring {location}")

    _remove = staticmethod(FileDirectory.remove)

    def cleanup(self, backup_id: str) -> None:
        """Remove what an interrupted backup of ``backup_id`` may have left (nothing is not an error)."""
        self._remove(os.path.join(self.directory, f".partial-{backup_id}"))
        self._remove(self._path(backup_id))

    def delete(self, location: str) -> None:
        self._remove(self._inside(location))
