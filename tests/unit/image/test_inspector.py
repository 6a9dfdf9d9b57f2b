"""The image content inspector on qemu-img's own images and on headers altered byte by byte."""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Iterator

import pytest

from nubis.image import inspector
from nubis.image.inspector import ImageContentRefused, Inspector


def _qemu_img(tmp_path, fmt: str, *options: str) -> bytes:  # type: ignore[no-untyped-def]
    path = tmp_path / f"disk.{fmt}"
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, *options, str(path), "1M"], check=True, timeout=60)
    return path.read_bytes()


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i:i + size] for i in range(0, len(data), size))


def _run(data: bytes, disk_format: str, piece: int = 4096) -> Inspector:
    checker = Inspector(disk_format)
    assert b"".join(checker.inspect(_pieces(data, piece))) == data
    return checker


@pytest.fixture
def qcow2(tmp_path) -> bytes:  # type: ignore[no-untyped-def]
    return _qemu_img(tmp_path, "qcow2")


def _with(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value):]


def test_clean_qcow2_in_any_piece_size(qcow2: bytes) -> None:
    for piece in (1, 7, 4096, 1024 * 1024):
        assert _run(qcow2, "qcow2", piece).virtual_size == 1024 * 1024


@pytest.mark.parametrize(("offset", "value", "words"), [
    (8, struct.pack(">Q", 512), "backing file"),
    (16, struct.pack(">I", 4), "backing file"),
    (72, struct.pack(">Q", 1 << 2), "external data file"),
    (72, struct.pack(">Q", 1 << 9), "unknown incompatible"),
    (4, struct.pack(">I", 4), "version"),
    (100, struct.pack(">I", 65_532), "do not end"),
])
def test_qcow2_header_fields_refused(qcow2: bytes, offset: int, value: bytes, words: str) -> None:
    with pytest.raises(ImageContentRefused, match=words):
        _run(_with(qcow2, offset, value), "qcow2")


def test_qcow2_data_file_extension_without_the_feature_bit(qcow2: bytes) -> None:
    start = struct.unpack(">I", qcow2[100:104])[0]
    extension = struct.pack(">II", inspector.QCOW2_EXT_DATA_FILE, 8) + b"/dev/sda"
    with pytest.raises(ImageContentRefused, match="external data file"):
        _run(_with(qcow2, start, extension + struct.pack(">II", 0, 0)), "qcow2")


def test_truncated_qcow2_is_refused(qcow2: bytes) -> None:
    with pytest.raises(ImageContentRefused, match="truncated"):
        _run(qcow2[:80], "qcow2")


def test_refused_before_the_data_past_the_head_is_passed_on(qcow2: bytes) -> None:
    unsafe = _with(qcow2, 8, struct.pack(">Q", 512)) + b"\0" * (4 * inspector.HEAD_LIMIT)
    passed = []
    with pytest.raises(ImageContentRefused):
        for chunk in Inspector("qcow2").inspect(_pieces(unsafe, 1024)):
            passed.append(chunk)
    assert sum(map(len, passed)) < inspector.HEAD_LIMIT


def test_vmdk_sparse_header_and_descriptor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = _qemu_img(tmp_path, "vmdk")
    assert _run(data, "vmdk").virtual_size == 1024 * 1024
    with pytest.raises(ImageContentRefused, match="no embedded descriptor"):
        _run(_with(data, 28, struct.pack("<Q", 0)), "vmdk")
    with pytest.raises(ImageContentRefused, match="beyond"):
        _run(_with(data, 28, struct.pack("<Q", 1000)), "vmdk")
    two_extents = data.replace(b'RW 2048 SPARSE "disk.vmdk"\n', b'RW 1 SPARSE "disk.vmdk"\nRW 1 SPARSE "b.vmdk"\n', 1)
    with pytest.raises(ImageContentRefused, match="2 data extents"):
        _run(two_extents, "vmdk")
    with pytest.raises(ImageContentRefused, match="COWD"):
        _run(b"COWD" + data[4:], "vmdk")


def test_format_match_can_be_turned_off_but_not_the_safety_checks(qcow2: bytes) -> None:
    assert b"".join(Inspector("raw", require_match=False).inspect(iter([qcow2]))) == qcow2
    with pytest.raises(ImageContentRefused, match="backing file"):
        b"".join(Inspector("raw", require_match=False).inspect(iter([_with(qcow2, 8, struct.pack(">Q", 512))])))
