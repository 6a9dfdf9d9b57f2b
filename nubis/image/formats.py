"""Virtual size from the image header, where the format says it."""

from __future__ import annotations

import struct


def virtual_size(disk_format: str | None, head: bytes, data_size: int) -> int | None:
    """``head`` is the first bytes of the data (at least 512 are enough for the formats read here)."""
    if disk_format == "qcow2" and head[:4] == b"QFI\xfb" and len(head) >= 32:
        return int(struct.unpack(">Q", head[24:32])[0])
    if disk_format == "vmdk" and head[:4] == b"KDMV" and len(head) >= 20:
        # Sparse extent header: capacity in 512-byte sectors (little endian).
        return int(struct.unpack("<Q", head[12:20])[0]) * 512
    if disk_format in ("raw", "iso"):
        return data_size
    return None
