"""The small interface every volume backend offers its manager.

Locations are opaque strings the backend hands out (a file path, an LV name, an RBD image) and the manager
stores as ``provider_location``; sizes are GiB. Every method raises ``BackendError`` with a message an
operator can act on; a failed create leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

GiB = 1024 ** 3


class BackendError(Exception):
    """The backend could not do what was asked; the message says why (it becomes the volume's error)."""


class VolumeBackend(Protocol):
    name: str

    def capacity_gb(self) -> int:
        """Total GiB this backend offers (before over-subscription)."""

    def create(self, volume_id: str, size_gb: int) -> str:
        """An empty (zeroed) volume of ``size_gb``; returns its location."""

    def create_from_snapshot(self, volume_id: str, size_gb: int, snapshot_location: str) -> str:
        """A volume holding the snapshot's data, grown to ``size_gb``; returns its location."""

    def create_from_image(self, volume_id: str, size_gb: int, image_path: str, qemu_format: str) -> str:
        """A volume holding the image at ``image_path`` (a local file in qemu-img's ``qemu_format``),
        converted to the backend's format and grown to ``size_gb``; returns its location."""

    def copy_to_image(self, location: str, target_path: str, qemu_format: str) -> None:
        """Write the volume's data (it may be attached) to the new local file ``target_path`` in qemu-img's
        ``qemu_format``: what an upload to the image service sends."""

    def clone(self, volume_id: str, size_gb: int, source_location: str) -> str:
        """A volume holding another volume's data now, grown to ``size_gb``; returns its location."""

    def cleanup(self, volume_id: str) -> None:
        """Remove whatever an interrupted create of ``volume_id`` may have left (nothing is not an error)."""

    def extend(self, location: str, new_size_gb: int) -> None:
        """Grow the volume; its data stays."""

    def delete(self, location: str) -> None:
        """Remove the volume's data; a missing one is not an error (deletes are retried)."""

    def create_snapshot(self, snapshot_id: str, volume_location: str) -> str:
        """A point-in-time copy of the volume; returns its location."""

    def delete_snapshot(self, location: str) -> None:
        """Remove the snapshot's data; a missing one is not an error."""

    def export(self, volume_id: str, location: str) -> dict[str, Any]:
        """Make the volume reachable by a compute (idempotent); returns Cinder's ``connection_info``:
        ``{"driver_volume_type": ..., "data": {...}}``."""

    def unexport(self, volume_id: str) -> None:
        """Stop the volume's export; a missing one is not an error."""

    def refresh_export(self, volume_id: str) -> bool:
        """After an extend: the volume's running export (if any) presents the new size. False when it cannot
        yet (a client is connected; it does once none is)."""

    def reconcile_exports(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Exports for exactly ``wanted`` (volume id, location): at a manager's start, after a crash."""
