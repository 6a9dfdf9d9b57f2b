"""NBD exports by qemu-storage-daemon: one per volume, found again after a restart, gone when removed."""

from __future__ import annotations

import json
import os
import subprocess

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
