"""NBD exports by qemu-storage-daemon: one per volume, found again after a restart, gone when removed."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from nubis.volume.manager.backends.base import BackendError
from nubis.volume.manager.exports import NbdExports
from tools import ports


def _size(data: dict) -> int | None:  # type: ignore[type-arg]
    proc = subprocess.run(["qemu-img", "info", "--output=json", "-f", "raw",
                           f"nbd://{data['host']}:{data['port']}/{data['name']}"],
                          capture_output=True, text=True, timeout=30, check=False)
    return int(json.loads(proc.stdout)["virtual-size"]) if proc.returncode == 0 else None


def test_export_reuse_reconcile_and_remove(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = ports.free_offset([0, 2])
    exports = NbdExports(str(tmp_path), "127.0.0.1", first, first + 2)
    paths = {}
    for volume_id in ("a", "b"):
        paths[volume_id] = str(tmp_path / f"volume-{volume_id}")
        with open(paths[volume_id], "wb") as f:
            f.truncate(1 << 20)
    try:
        a = exports.ensure("a", paths["a"])
        assert a == exports.ensure("a", paths["a"])  # the running export, not a second one
        b = exports.ensure("b", paths["b"])
        assert a["port"] != b["port"] and _size(a) == _size(b) == 1 << 20
        exports.reconcile([("b", paths["b"])])  # a is not wanted any more
        assert exports.exported() == ["b"] and _size(a) is None and _size(b) == 1 << 20
        with pytest.raises(BackendError, match="Invalid volume id"):
            exports.ensure("../x", paths["a"])
    finally:
        for volume_id in exports.exported():
            exports.remove(volume_id)
    assert exports.exported() == [] and _size(b) is None
    assert sorted(os.listdir(tmp_path)) == ["volume-a", "volume-b"]


def test_a_grown_volume_is_presented_at_its_new_size_without_dropping_a_client(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The export presents a grown file's size (QMP: export removed, node resized, export added, same port); a
    connected client is never dropped: the size waits until none is connected (the next ensure)."""
    first = ports.free_offset([0, 1])
    exports = NbdExports(str(tmp_path), "127.0.0.1", first, first + 1)
    path = str(tmp_path / "volume-g")
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    try:
        data = exports.ensure("g", path)
        os.truncate(path, 2 << 20)
        assert exports.refresh_size("g") is True and _size(data) == 2 << 20
        # A client stays connected (qemu-io sleeps, then reads): the export keeps its size and the client its I/O.
        client = subprocess.Popen(["qemu-io", "-f", "raw", f"nbd://{data['host']}:{data['port']}/{data['name']}",
                                   "-c", "sleep 1500", "-c", "read 0 512"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for _ in range(100):  # until the client is connected: the daemon refuses to remove the export
                os.truncate(path, 3 << 20)
                if exports.refresh_size("g") is False:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the client never connected")
            out, _ = client.communicate(timeout=30)
        finally:
            client.kill()
        assert "read 512/512 bytes" in out
        assert exports.ensure("g", path) == data and _size(data) == 3 << 20  # applied once nobody was connected
        assert exports.refresh_size("nothing") is True  # no export: the next one reads the size
    finally:
        exports.remove("g")
    assert sorted(os.listdir(tmp_path)) == ["volume-g"]  # no state, no monitor socket left
