"""File backend: each volume is a raw sparse file ``volume-<id>`` under one directory, each snapshot a sparse
copy ``snapshot-<id>`` made by ``qemu-img convert`` (which skips zeroes, so copies stay thin).

Attached volumes are exported over NBD by qemu-storage-daemon (``exports.NbdExports``), which computes reach as
qemu network disks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from typing import Any

from nubis.volume.manager.backends.base import BackendError, GiB
from nubis.volume.manager.backends.files import FileDirectory
from nubis.volume.manager.exports import NbdExports

# A snapshot copy of a large volume reads the whole file; bound it so a stuck copy cannot hang the manager.
COPY_TIMEOUT = 3600


class FileBackend:
    name = "file"

    def __init__(self, directory: str, capacity_gb: int = 0, nbd_host: str = "127.0.0.1",
                 nbd_ports: tuple[int, int] = (10809, 10908)) -> None:
        self.directory = directory
        self._capacity_gb = capacity_gb
        self._files = FileDirectory(directory, "a location of this file backend")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.exports = NbdExports(directory, nbd_host, *nbd_ports)

    def capacity_gb(self) -> int:
        if self._capacity_gb:
            return self._capacity_gb
        st = os.statvfs(self.directory)
        return st.f_blocks * st.f_frsize // GiB

    def _path(self, kind: str, ident: str) -> str:
        return self._files.path(kind, ident)

    def _inside(self, location: str) -> str:
        return self._files.inside(location)

    def create(self, volume_id: str, size_gb: int) -> str:
        path = self._path("volume", volume_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as e:
            raise BackendError(f"Volume file {path} already exists.") from e
        except OSError as e:
            raise BackendError(f"Cannot create volume file {path}: {e.strerror}.") from e
        try:
            os.ftruncate(fd, size_gb * GiB)
        except OSError as e:
            os.close(fd)
            os.unlink(path)
            raise BackendError(f"Cannot size volume file {path} to {size_gb} GiB: {e.strerror}.") from e
        os.close(fd)
        return path

    @staticmethod
    def _qemu_img() -> str:
        qemu_img = shutil.which("qemu-img")
        if qemu_img is None:
            raise BackendError("qemu-img is not installed on this storage host (package qemu-utils).")
        return qemu_img

    def _copy(self, source: str, target: str, source_format: str = "raw", shared: bool = False,
              target_format: str = "raw") -> None:
        """``source`` copied to the file ``target`` (raw unless ``target_format``). ``shared``: the source may be
        attached (its NBD export's daemon holds the file's write lock), so it is read in shared mode (``-U``): a
        crash-consistent copy, as Cinder's snapshot of an in-use volume."""
        qemu_img = self._qemu_img()
        try:
            proc = subprocess.run([qemu_img, "convert", *(["-U"] if shared else []), "-f", source_format,
                                   "-O", target_format, source, target],
                                  capture_output=True, text=True, timeout=COPY_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as e:
            self._remove(target)
            raise BackendError(f"Copying {source} took over {COPY_TIMEOUT} s.") from e
        if proc.returncode != 0:
            self._remove(target)
            raise BackendError(f"qemu-img convert {source} failed: {proc.stderr.strip()[:500]}")

    def _check_image(self, image_path: str, qemu_format: str) -> int:
        """The image's virtual size in bytes; refuses images that name other files (backing or data files),
        which qemu-img would read from this host."""
        try:
            proc = subprocess.run([self._qemu_img(), "info", "--output=json", "-f", qemu_format, image_path],
                                  capture_output=True, text=True, timeout=60, check=False)
        except subprocess.TimeoutExpired as e:
            raise BackendError("qemu-img info on the image took over 60 s.") from e
        if proc.returncode != 0:
            raise BackendError(f"The image is not a valid {qemu_format} file: {proc.stderr.strip()[:300]}")
        info = json.loads(proc.stdout)
        data_file = (info.get("format-specific") or {}).get("data", {}).get("data-file")
        if info.get("backing-filename") or info.get("full-backing-filename") or data_file:
            raise BackendError("The image refers to other files (a backing or data file): refused.")
        return int(info.get("virtual-size") or 0)

    def create_from_image(self, volume_id: str, size_gb: int, image_path: str, qemu_format: str) -> str:
        path = self._path("volume", volume_id)
        if os.path.exists(path):
            raise BackendError(f"Volume file {path} already exists.")
        virtual = self._check_image(image_path, qemu_format)
        if virtual > size_gb * GiB:
            raise BackendError(f"The image's virtual size ({virtual} bytes) is larger than the volume "
                               f"({size_gb} GiB).")
        self._copy(image_path, path, qemu_format)
        try:
            self.extend(path, size_gb)
        except BackendError:
            self._remove(path)
            raise
        return path

    def copy_to_image(self, location: str, target_path: str, qemu_format: str) -> None:
        self._copy(self._inside(location), target_path, shared=True, target_format=qemu_format)

    def create_from_snapshot(self, volume_id: str, size_gb: int, snapshot_location: str) -> str:
        return self.clone(volume_id, size_gb, snapshot_location)

    def clone(self, volume_id: str, size_gb: int, source_location: str) -> str:
        source = self._inside(source_location)
        path = self._path("volume", volume_id)
        if os.path.exists(path):
            raise BackendError(f"Volume file {path} already exists.")
        self._copy(source, path, shared=True)
        try:
            self.extend(path, size_gb)
        except BackendError:
            self._remove(path)
            raise
        return path

    def extend(self, location: str, new_size_gb: int) -> None:
        path = self._inside(location)
        try:
            if os.path.getsize(path) > new_size_gb * GiB:
                raise BackendError(f"Volume file {path} is larger than {new_size_gb} GiB: volumes never shrink.")
            os.truncate(path, new_size_gb * GiB)
        except OSError as e:
            raise BackendError(f"Cannot extend {path} to {new_size_gb} GiB: {e.strerror}.") from e

    _remove = staticmethod(FileDirectory.remove)

    def cleanup(self, volume_id: str) -> None:
        self._remove(self._path("volume", volume_id))

    def delete(self, location: str) -> None:
        self._remove(self._inside(location))

    def create_snapshot(self, snapshot_id: str, volume_location: str) -> str:
        path = self._path("snapshot", snapshot_id)
        self._copy(self._inside(volume_location), path, shared=True)
        return path

    def delete_snapshot(self, location: str) -> None:
        self._remove(self._inside(location))

    def export(self, volume_id: str, location: str) -> dict[str, Any]:
        data = self.exports.ensure(volume_id, self._inside(location))
        return {"driver_volume_type": "nbd", "data": data}

    def unexport(self, volume_id: str) -> None:
        self.exports.remove(volume_id)

    def refresh_export(self, volume_id: str) -> bool:
        return self.exports.refresh_size(volume_id)

    def reconcile_exports(self, wanted: Iterable[tuple[str, str]]) -> None:
        self.exports.reconcile((volume_id, self._inside(location)) for volume_id, location in wanted)
