"""The file backup store on a temporary directory: private files, compression, restore, refusals, cleanup."""

from __future__ import annotations

import os
import stat

import pytest

from nubis.volume.manager.backends.base import BackendError
from nubis.volume.manager.backup_store import FileBackupStore

MiB = 1024 ** 2


def _volume(path: str, size: int, writes: dict[int, bytes]) -> str:
    with open(path, "wb") as f:
        f.truncate(size)
        for offset, data in writes.items():
            f.seek(offset)
            f.write(data)
    return path


@pytest.mark.parametrize("compression", ["zlib", "zstd", "none"])
def test_backup_and_restore_round_trip(tmp_path, compression: str) -> None:  # type: ignore[no-untyped-def]
    store = FileBackupStore(str(tmp_path / "b"), compression)
    assert stat.S_IMODE(os.stat(tmp_path / "b").st_mode) == 0o700
    source = _volume(str(tmp_path / "vol"), 64 * MiB, {0: b"start", 40 * MiB: b"middle" * 1000})
    location = store.backup("one", source)
    assert stat.S_IMODE(os.stat(location).st_mode) == 0o600
    assert os.path.getsize(location) < 2 * MiB  # sparse (and compressed unless none)
    with pytest.raises(BackendError, match="already exists"):
        store.backup("one", source)
    # A restore overwrites every byte of the target, zeroes included.
    target = _volume(str(tmp_path / "target"), 80 * MiB, {1 * MiB: b"stale", 70 * MiB: b"beyond"})
    store.restore(location, target)
    with open(target, "rb") as f:
        data = f.read()
    assert data[:5] == b"start" and data[40 * MiB:40 * MiB + 6] == b"middle"
    assert data[1 * MiB:1 * MiB + 5] == b"\0" * 5
    assert data[70 * MiB:70 * MiB + 6] == b"beyond"  # past the backup's size: the volume's own
    store.delete(location)
    assert not os.path.exists(location)
    store.delete(location)  # again: not an error


def test_refusals_and_cleanup(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = FileBackupStore(str(tmp_path / "b"))
    elsewhere = _volume(str(tmp_path / "elsewhere"), MiB, {})
    with pytest.raises(BackendError, match="not a backup of this store"):
        store.delete(elsewhere)
    with pytest.raises(BackendError, match="not a backup of this store"):
        store.restore(elsewhere, elsewhere)
    with pytest.raises(BackendError, match="Invalid backup id"):
        store.backup("../x", elsewhere)
    with pytest.raises(BackendError, match="Backing up"):
        store.backup("missing", str(tmp_path / "no-such-volume"))
    assert os.listdir(tmp_path / "b") == []  # a failed copy leaves nothing
    partial = tmp_path / "b" / ".partial-late"
    partial.write_bytes(b"x")
    store.cleanup("late")
    assert not partial.exists() and os.path.exists(elsewhere)


def test_incremental_backup_holds_only_the_changes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = FileBackupStore(str(tmp_path / "b"))
    source = _volume(str(tmp_path / "vol"), 64 * MiB, {0: b"base", 8 * MiB: os.urandom(8 * MiB)})
    full = store.backup("full", source)
    with open(source, "r+b") as f:
        f.write(b"next")
        f.truncate(80 * MiB)  # extended since the full backup
        f.seek(70 * MiB)
        f.write(b"grown")
    incremental = store.backup("incr", source, full)
    assert os.path.getsize(incremental) < os.path.getsize(full) / 4
    target = _volume(str(tmp_path / "target"), 80 * MiB, {})
    store.restore(incremental, target)
    with open(source, "rb") as a, open(target, "rb") as b:
        assert a.read() == b.read()
    store.restore(full, target)  # the parent is still itself
    with open(target, "rb") as f:
        assert f.read(4) == b"base"
    with pytest.raises(BackendError, match="not a backup of this store"):
        store.backup("bad", source, source)

