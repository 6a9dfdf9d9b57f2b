"""What image data really is, read from its first bytes as they stream in.

Image data is refused when its header makes whoever opens it read other
files on their host (a qcow2 backing file or external data file, a VMDK
whose descriptor points at further extents or a parent), and when it is not
in the ``disk_format`` the image declares (a qcow2 uploaded as ``raw`` would
be opened as raw by some consumers and as qcow2 by others). Only the first
``HEAD_LIMIT`` bytes are kept, plus the last 512 (a fixed VHD's footer), so
the check costs the same for any image size.

Facts used (from the formats' specifications):

* qcow2: magic ``QFI\\xfb``; big-endian header: version (4..7),
  backing_file_offset (8..15), backing_file_size (16..19), cluster_bits
  (20..23), size (24..31); from version 3, incompatible_features (72..79;
  bit 2: the data is in an external data file) and header_length
  (100..103). Header extensions (type, length, data padded to 8 bytes)
  follow the header; type 0x44415441 names the external data file.
* VMDK: hosted sparse extents start with ``KDMV``; little-endian header with
  capacity in sectors (12..19), descriptorOffset and descriptorSize in
  sectors (28..35, 36..43). The embedded text descriptor names createType,
  the extents (``RW 2048 SPARSE "disk.vmdk"``) and, for a delta disk,
  parentFileNameHint. A descriptor-only VMDK is that text on its own.
  ``COWD`` starts the older ESX sparse format, which names its parent.
* VHD: footer cookie ``conectix`` (at the start of a dynamic disk, in the
  last 512 bytes of a fixed one), current size big-endian at 48..55.
* VHDX: ``vhdxfile`` at 0. VDI: signature 0xbeda107f little-endian at 0x40,
  disk size at 0x170. ISO 9660 / UDF: ``CD001`` / ``BEA01``, ``NSR02``,
  ``NSR03``, ``TEA01`` at byte 0x8001 (sector 16, after the type byte).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator, Sequence

from nubis.common import exceptions

# Enough for the ISO 9660 volume descriptor (byte 0x8001) and a VMDK descriptor at its usual place.
HEAD_LIMIT = 64 * 1024
FOOTER = 512
SECTOR = 512

QCOW2_MAGIC = b"QFI\xfb"
QCOW2_DATA_FILE_BIT = 1 << 2
# Bits qcow2 defines today: dirty, corrupt, external data file, compression type, extended L2 entries.
QCOW2_KNOWN_INCOMPATIBLE = 0b11111
QCOW2_EXT_END = 0
QCOW2_EXT_DATA_FILE = 0x44415441
VMDK_MAGIC = b"KDMV"
VMDK_ESX_MAGIC = b"COWD"
VMDK_DESCRIPTOR_TEXT = b"# Disk DescriptorFile"
VHD_COOKIE = b"conectix"
VHDX_MAGIC = b"vhdxfile"
VDI_SIGNATURE = struct.pack("<I", 0xBEDA107F)
ISO_OFFSET = 0x8001
ISO_MARKS = (b"CD001", b"BEA01", b"NSR02", b"NSR03", b"TEA01")
# Formats whose content says what they are; any other disk_format (raw, ami, aki, ari, ploop) must be none of them.
SIGNED_FORMATS = ("qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso")

_EXTENT = re.compile(r'^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)")?(?:\s+\d+)?\s*$')


class ImageContentRefused(exceptions.BadRequest):
    """The data is unsafe to open, or not in the image's disk_format."""


def _refuse(message: str) -> ImageContentRefused:
    return ImageContentRefused(f"Image content refused: {message}")


def _mismatch(seen: str, declared: str | None) -> ImageContentRefused:
    return _refuse(f"the data is {seen}, not the image's disk_format {declared}.")


def detect(head: bytes) -> list[str]:
    """Every format whose signature ``head`` (the data's first bytes) carries; empty for raw data."""
    found = []
    if head.startswith(QCOW2_MAGIC):
        found.append("qcow2")
    if head.startswith((VMDK_MAGIC, VMDK_ESX_MAGIC, VMDK_DESCRIPTOR_TEXT)):
        found.append("vmdk")
    if head.startswith(VHD_COOKIE):
        found.append("vhd")
    if head.startswith(VHDX_MAGIC):
        found.append("vhdx")
    if head[0x40:0x44] == VDI_SIGNATURE:
        found.append("vdi")
    if head[ISO_OFFSET:ISO_OFFSET + 5] in ISO_MARKS:
        found.append("iso")
    return found


def check_qcow2(head: bytes) -> None:
    """Refuse a qcow2 that needs another file: a backing file, or an external data file.

    :raises ImageContentRefused: naming what the header asks for.
    """
    if len(head) < 72:
        raise _refuse("the qcow2 header is truncated.")
    version, backing_offset, backing_size = struct.unpack(">IQI", head[4:20])
    if version not in (2, 3):
        raise _refuse(f"qcow2 version {version} is not supported (2 or 3).")
    if backing_offset or backing_size:
        raise _refuse("the qcow2 image names a backing file; upload a standalone image "
                      "(qemu-img convert -O qcow2 flattens it).")
    extensions_at = 72
    if version == 3:
        if len(head) < 104:
            raise _refuse("the qcow2 v3 header is truncated.")
        incompatible = struct.unpack(">Q", head[72:80])[0]
        if incompatible & QCOW2_DATA_FILE_BIT:
            raise _refuse("the qcow2 image keeps its data in an external data file.")
        if incompatible & ~QCOW2_KNOWN_INCOMPATIBLE:
            raise _refuse(f"the qcow2 image uses unknown incompatible features ({incompatible:#x}).")
        extensions_at = struct.unpack(">I", head[100:104])[0]
    offset = extensions_at
    while True:
        if offset + 8 > len(head):
            raise _refuse(f"the qcow2 header extensions do not end within the first {len(head)} bytes.")
        kind, length = struct.unpack(">II", head[offset:offset + 8])
        if kind == QCOW2_EXT_END:
            return
        if kind == QCOW2_EXT_DATA_FILE:
            raise _refuse("the qcow2 image names an external data file.")
        offset += 8 + (length + 7) // 8 * 8


def _descriptor(head: bytes) -> str:
    if head.startswith(VMDK_DESCRIPTOR_TEXT):
        raise _refuse("a VMDK descriptor file on its own points at extents in other files; upload a "
                      "monolithicSparse or streamOptimized VMDK.")
    if head.startswith(VMDK_ESX_MAGIC):
        raise _refuse("an ESX sparse (COWD) VMDK names a parent file.")
    if len(head) < 44:
        raise _refuse("the VMDK header is truncated.")
    offset, size = struct.unpack("<QQ", head[28:44])
    if not offset or not size:
        raise _refuse("the VMDK has no embedded descriptor.")
    start, end = offset * SECTOR, (offset + size) * SECTOR
    if end > len(head):
        raise _refuse(f"the VMDK descriptor lies beyond the first {len(head)} bytes.")
    return head[start:end].split(b"\0", 1)[0].decode("utf-8", "replace")


def check_vmdk(head: bytes, allowed_types: Sequence[str]) -> None:
    """Refuse a VMDK that is not one self-contained file (createType, extents, parent).

    :raises ImageContentRefused: naming what the descriptor asks for.
    """
    create_type = None
    sparse_extents = 0
    for raw_line in _descriptor(head).splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep and key.strip() == "createType":
            create_type = value.strip().strip('"')
        elif sep and key.strip() == "parentFileNameHint":
            raise _refuse("the VMDK is a delta disk: it names a parent file.")
        elif line.startswith(("RW", "RDONLY", "NOACCESS")):
            extent = _EXTENT.match(line)
            if extent is None:
                raise _refuse(f"the VMDK extent line {line[:100]!r} is malformed.")
            kind, filename = extent.group(3), extent.group(4) or ""
            if kind == "ZERO":
                continue
            if kind != "SPARSE" or "/" in filename or "\\" in filename:
                raise _refuse(f"the VMDK extent {line[:100]!r} is not a sparse extent in the file itself.")
            sparse_extents += 1
    if create_type not in allowed_types:
        raise _refuse(f"VMDK createType {create_type!r} is not allowed (allowed: {', '.join(allowed_types)}).")
    if sparse_extents != 1:
        raise _refuse(f"the VMDK has {sparse_extents} data extents; a self-contained VMDK has exactly one.")


def virtual_size(disk_format: str, head: bytes, footer: bytes, size: int) -> int | None:
    """The disk size the guest sees, in bytes, where the format's header states it; None otherwise."""
    if disk_format == "qcow2" and len(head) >= 32:
        return int(struct.unpack(">Q", head[24:32])[0])
    if disk_format == "vmdk" and head.startswith(VMDK_MAGIC) and len(head) >= 20:
        return int(struct.unpack("<Q", head[12:20])[0]) * SECTOR
    if disk_format == "vhd":
        vhd_footer = head if head.startswith(VHD_COOKIE) else footer
        return int(struct.unpack(">Q", vhd_footer[48:56])[0]) if len(vhd_footer) >= 56 else None
    if disk_format == "vdi" and len(head) >= 0x178:
        return int(struct.unpack("<Q", head[0x170:0x178])[0])
    if disk_format in ("raw", "iso"):
        return size
    return None


class Inspector:
    """Watches one upload: ``inspect`` passes the chunks through and raises as soon as the head shows the
    data must be refused; after the last chunk, ``virtual_size`` is known.

    ``require_match``: refuse data in another format than ``disk_format`` (the safety checks apply anyway).
    """

    def __init__(self, disk_format: str | None, require_match: bool = True,
                 vmdk_allowed_types: Sequence[str] = ("streamOptimized", "monolithicSparse")) -> None:
        self.disk_format = disk_format
        self.require_match = require_match
        self.vmdk_allowed_types = tuple(vmdk_allowed_types)
        self.head = b""
        self.footer = b""
        self.size = 0
        self.virtual_size: int | None = None
        self._checked = False
        self._found: list[str] = []

    def inspect(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.feed(chunk)
            yield chunk
        self.finish()

    def feed(self, chunk: bytes | memoryview) -> None:
        """Look at the next piece of data (copying only the head and footer it needs); raise to refuse it."""
        self.size += len(chunk)
        if len(self.head) < HEAD_LIMIT:
            self.head += bytes(chunk[:HEAD_LIMIT - len(self.head)])
            if len(self.head) >= HEAD_LIMIT:
                self._check_head()  # before the chunk that completes the head goes anywhere
        self.footer = (self.footer + bytes(chunk[-FOOTER:]))[-FOOTER:]

    def finish(self) -> None:
        """The data is complete: run the checks that need all of it, and work out ``virtual_size``."""
        if not self._checked:
            self._check_head()
        self._check_whole()

    def _check_head(self) -> None:
        self._checked = True
        self._found = found = detect(self.head)
        if len(found) > 1:
            raise _refuse(f"the data carries the signatures of several formats ({', '.join(found)}).")
        if "qcow2" in found:
            check_qcow2(self.head)
        if "vmdk" in found:
            check_vmdk(self.head, self.vmdk_allowed_types)
        if not self.require_match:
            return
        declared = self.disk_format
        if found and found != [declared]:
            raise _mismatch(found[0], declared)
        # A fixed VHD has its footer only at the end: that one is told when the data is complete.
        if not found and declared in SIGNED_FORMATS and declared != "vhd":
            raise _mismatch("raw data", declared)

    def _check_whole(self) -> None:
        declared = self.disk_format or ""
        matches = declared not in SIGNED_FORMATS or declared in self._found or (
            declared == "vhd" and self.footer.startswith(VHD_COOKIE))
        if self.require_match and not matches:
            raise _mismatch("raw data", declared)
        self.virtual_size = virtual_size(declared, self.head, self.footer, self.size) if matches else None
