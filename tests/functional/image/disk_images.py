"""Small disk images made by qemu-img, as a user would make them, for upload tests."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import socketserver
import subprocess
import threading
from collections.abc import Iterator


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, timeout=60)


def qcow2(path: str, virtual: int, data: bytes = b"", options: str = "", backing: str | None = None) -> bytes:
    """A qcow2 of ``virtual`` bytes whose first bytes hold ``data``; its file's bytes.

    ``options`` go to ``-o`` (``data_file=...``); ``backing`` names a backing qcow2.
    """
    if data:
        raw = f"{path}.src"
        with open(raw, "wb") as f:
            f.write(data)
            f.truncate(virtual)
        qemu_img("convert", "-f", "raw", "-O", "qcow2", raw, path)
        os.unlink(raw)
    else:
        args = ["create", "-q", "-f", "qcow2"]
        if options:
            args += ["-o", options]
        if backing:
            args += ["-b", backing, "-F", "qcow2"]
        qemu_img(*args, path, str(virtual))
    with open(path, "rb") as f:
        return f.read()


def disk(path: str, disk_format: str, virtual: int = 1024 * 1024, subformat: str | None = None) -> bytes:
    """An empty image in ``disk_format`` (qemu-img's name for vhd is vpc); its file's bytes."""
    args = ["create", "-q", "-f", "vpc" if disk_format == "vhd" else disk_format]
    if subformat:
        args += ["-o", f"subformat={subformat}"]
    qemu_img(*args, path, str(virtual))
    with open(path, "rb") as f:
        return f.read()


def iso(path: str, workdir: str) -> bytes:
    """An ISO 9660 image holding one small file; its bytes."""
    src = os.path.join(workdir, "iso-src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "hello.txt"), "w") as f:
        f.write("hello\n")
    subprocess.run(["genisoimage", "-quiet", "-o", path, src], check=True, capture_output=True, timeout=60)
    with open(path, "rb") as f:
        return f.read()


@contextlib.contextmanager
def serve_directory(directory: str) -> Iterator[int]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (a web-download source); yields the port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    with socketserver.TCPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
