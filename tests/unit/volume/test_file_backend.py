"""The file backend on a temporary directory: sizes, sparse copies, refusals, cleanup."""

from __future__ import annotations

import os

import pytest

from nubis.volume.manager.backends.base import BackendError, GiB
from nubis.volume.manager.backends.file import FileBackend
from tools import ports


def test_create_extend_delete(tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = FileBackend(str(tmp_path / "v"), capacity_gb=7)
    assert backend.capacity_gb() == 7
    path = backend.create("abc", 1)
    assert os.path.getsize(path) == GiB
    assert os.stat(path).st_blocks * 512 < GiB  # sparse: thin provisioned
    with pytest.raises(BackendError, match="already exists"):
        backend.create("abc", 1)
    backend.extend(path, 2)
    assert os.path.getsize(path) == 2 * GiB
    with pytest.raises(BackendError, match="never shrink"):
        backend.extend(path, 1)
    backend.delete(path)
    assert not os.path.exists(path)
    backend.delete(path)  # deleting again is not an error


def test_snapshot_is_a_point_in_time_copy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = FileBackend(str(tmp_path))
    assert backend.capacity_gb() >= 0
    path = backend.create("src", 1)
    with open(path, "r+b") as f:
        f.seek(GiB // 2)
        f.write(b"before")
    snap = backend.create_snapshot("s1", path)
    with open(path, "r+b") as f:
        f.seek(GiB // 2)
        f.write(b"after!")
    clone = backend.create_from_snapshot("clone", 2, snap)
    assert os.path.getsize(clone) == 2 * GiB
    with open(clone, "rb") as f:
        f.seek(GiB // 2)
        assert f.read(6) == b"before"
    backend.delete_snapshot(snap)
    assert not os.path.exists(snap)


def test_refuses_paths_outside_its_directory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = FileBackend(str(tmp_path / "v"))
    outside = tmp_path / "precious"
    outside.write_bytes(b"x")
    for call in (backend.delete, backend.delete_snapshot, lambda p: backend.extend(p, 1),
                 lambda p: backend.create_snapshot("s", p)):
        with pytest.raises(BackendError, match="not a location"):
            call(str(outside))
    assert outside.exists()
    with pytest.raises(BackendError, match="Invalid volume id"):
        backend.create("../escape", 1)


def test_cleanup_of_an_interrupted_create(tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = FileBackend(str(tmp_path))
    path = backend.create("half", 1)
    backend.cleanup("half")
    assert not os.path.exists(path)
    backend.cleanup("never-made")


def test_snapshot_and_clone_of_an_exported_volume(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An attached volume (exported over NBD, whose daemon holds the file's write lock) can still be snapshotted
    (Cinder's ``force`` snapshot of an in-use volume) and cloned: the copy reads the file in shared mode."""
    first = ports.free_offset([0])
    backend = FileBackend(str(tmp_path), nbd_ports=(first, first))
    path = backend.create("src", 1)
    with open(path, "r+b") as f:
        f.seek(GiB // 2)
        f.write(b"in use")
    backend.export("src", path)
    try:
        snap = backend.create_snapshot("s1", path)
        clone = backend.clone("copy", 1, path)
    finally:
        backend.unexport("src")
    for copy in (snap, clone):
        with open(copy, "rb") as f:
            f.seek(GiB // 2)
            assert f.read(6) == b"in use"
