"""tools.bench.volume's pieces that need no cloud: reading qemu-img bench, and the leftover-export sweep."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tools.bench import volume


def test_parse_bench_reads_the_seconds_and_refuses_other_output() -> None:
    out = ("Sending 64 write requests, 1048576 bytes each, 8 in parallel (starting at offset 0, step size 1048576)\n"
           "Run completed in 0.058 seconds.\n")
    assert volume.parse_bench(out) == 0.058
    assert volume.mib_per_s(64, 0.5) == 128.0
    assert volume.mib_per_s(64, 0.0) == 64000.0  # too short to time: counted as 1 ms
    with pytest.raises(ValueError, match="Run completed"):
        volume.parse_bench("qemu-img: Could not open 'x': No such file or directory\n")


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")
def test_qemu_bench_on_a_raw_file(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "disk.raw")
    with open(path, "wb") as f:
        f.truncate(8 * volume.MiB)
    assert volume.qemu_bench(["-f", "raw", path], 8, True, "writeback") > 0
    assert volume.qemu_bench(["-f", "raw", path], 8, False, "writeback") > 0
    with open(path, "rb") as f:
        assert f.read(volume.MiB) == bytes([volume.PATTERN]) * volume.MiB  # the writes landed
    with pytest.raises(RuntimeError, match="failed"):
        volume.qemu_bench(["-f", "raw", path + ".missing"], 1, False, "writeback")


def test_the_sweep_stops_only_qemu_storage_daemons_of_this_directory(tmp_path: object) -> None:
    directory = str(tmp_path)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with open(os.path.join(directory, "export-a.json"), "w") as f:
            json.dump({"pid": bystander.pid}, f)
        with open(os.path.join(directory, "export-b.json"), "w") as f:
            f.write("not json")
        assert volume.stop_leftover_exports(directory) == []
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
