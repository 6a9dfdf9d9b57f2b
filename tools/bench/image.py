"""Image upload and download throughput against ``cp``, and the service's memory.

    python -m tools.bench.image [--size-mib 1024] [--db sqlite|URL]

A standalone ``nubis-image`` (auth off, so the figures are the image path's
own) stores into a directory on the same filesystem as the source file. Upload
streams the file with chunked transfer, as ``openstack image create --file``
does; download streams it back to a file. The reference is ``cp`` of the same
file on the same disk, after ``sync`` and a page-cache drop for both, so
neither side reads from memory the other warmed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import requests

from tools.bench import _service, figures

CHUNK = 1024 * 1024
HEADERS = {"X-User-Id": "bench", "X-Project-Id": "bench", "X-Roles": "admin,member,reader"}


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        pass  # not root: the figures then include page-cache hits on both sides


def make_source(path: str, size: int) -> None:
    block = os.urandom(CHUNK)  # incompressible, one random block repeated
    with open(path, "wb") as f:
        for _ in range(size // CHUNK):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())


def timed(fn: object, *args: object) -> float:
    drop_caches()
    start = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def cp(src: str, dst: str) -> None:
    subprocess.run(["cp", src, dst], check=True)
    subprocess.run(["sync", dst], check=True)  # the image store fsyncs too


def read_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def upload(base: str, image_id: str, src: str) -> None:
    resp = requests.put(f"{base}/v2/images/{image_id}/file", data=read_chunks(src), timeout=600,
                        headers={**HEADERS, "Content-Type": "application/octet-stream"})
    resp.raise_for_status()


def download(base: str, image_id: str, dst: str) -> None:
    with requests.get(f"{base}/v2/images/{image_id}/file", headers=HEADERS, stream=True, timeout=600) as r, \
            open(dst, "wb") as out:
        r.raise_for_status()
        for chunk in r.iter_content(CHUNK):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tools.bench.image")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a server URL without a database name")
    parser.add_argument("--dir", default=None, help="scratch directory (default: a temp dir under /var/tmp)")
    args = parser.parse_args(argv)
    size = args.size_mib * CHUNK
    mib = size / CHUNK
    with tempfile.TemporaryDirectory(dir=args.dir or "/var/tmp") as state, \
            _service.scratch_database(args.db, state, "image") as url:
        src, copy, fetched = (os.path.join(state, n) for n in ("source.img", "copy.img", "fetched.img"))
        make_source(src, size)
        cp_seconds = timed(cp, src, copy)
        os.unlink(copy)

        port = _service.free_port()
        conf = os.path.join(state, "nubis.conf")
        with open(conf, "w") as f:
            f.write(f"[DEFAULT]\nstate_path = {state}\n[database]\nconnection = {url}\n"
                    f"[api]\nauth_strategy = noauth\n[image]\nbind_host = 127.0.0.1\nbind_port = {port}\n")
        subprocess.run([os.path.join(_service.BIN, "nubis-manage"), "--config-file", conf, "db", "sync", "image"],
                       check=True, capture_output=True)
        with _service.running_process("nubis-image", conf, port) as (base, pid):
            image = requests.post(f"{base}/v2/images", headers=HEADERS, timeout=10, json={
                "name": "bench", "disk_format": "raw", "container_format": "bare"}).json()
            idle_rss = _service.peak_rss_mib(pid)
            up_seconds = timed(upload, base, image["id"], src)
            up_rss = _service.peak_rss_mib(pid)
            down_seconds = timed(download, base, image["id"], fetched)
            peak_rss = _service.peak_rss_mib(pid)
        if os.path.getsize(fetched) != size:
            sys.exit("downloaded size differs from the upload")

    print(f"image bench: {mib:.0f} MiB, db={args.db.split(':')[0]}, 1 worker, chunk {CHUNK // 1024} KiB")
    print(f"  cp          {mib / cp_seconds:8.0f} MiB/s   (reference)")
    for name, seconds in (("upload", up_seconds), ("download", down_seconds)):
        figures.record("image", f"{name} throughput", mib / seconds, "MiB/s", size_mib=round(mib))
        figures.record("image", f"{name} share of cp", 100 * cp_seconds / seconds, "%", size_mib=round(mib))
    figures.record("image", "RSS growth", peak_rss - idle_rss, "MiB", size_mib=round(mib))
    print(f"  upload      {mib / up_seconds:8.0f} MiB/s   {100 * cp_seconds / up_seconds:5.0f}% of cp")
    print(f"  download    {mib / down_seconds:8.0f} MiB/s   {100 * cp_seconds / down_seconds:5.0f}% of cp")
    print(f"  service RSS idle {idle_rss:.0f} MiB, peak after upload {up_rss:.0f} MiB, "
          f"after download {peak_rss:.0f} MiB (growth {peak_rss - idle_rss:.0f} MiB)")


if __name__ == "__main__":
    main(sys.argv[1:])
