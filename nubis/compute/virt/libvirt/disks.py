"""Instance disks with qemu-img: qcow2 overlays on cached bases, ephemeral and swap."""

from __future__ import annotations

import json
import os
import subprocess

GIB = 1024**3


class DiskError(RuntimeError):
    pass


def _run(*args: str) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True)
    if proc.returncode != 0:
        raise DiskError(f"{' '.join(args[:3])} failed: {proc.stderr.strip()}")
    return proc.stdout


def info(path: str) -> dict[str, object]:
    """``qemu-img info`` as a dict (format, virtual-size, backing-filename, ...)."""
    return json.loads(_run("qemu-img", "info", "--output=json", "--force-share", path))


def backing_files(path: str) -> list[str]:
    """The files under ``path`` in its backing chain (absolute paths, nearest first; [] for a standalone disk).

    Read with ``--force-share``, so a disk a running guest holds can be read too.

    :raises DiskError: qemu-img cannot read ``path``.
    """
    chain = json.loads(_run("qemu-img", "info", "--output=json", "--force-share", "--backing-chain", path))
    return [str(layer["full-backing-filename"]) for layer in chain if layer.get("full-backing-filename")]


def create_overlay(base: str, path: str, size_gb: int | None) -> None:
    """A copy-on-write qcow2 on ``base``, grown to the flavor's root size when larger.

    Shrinking is refused: a flavor smaller than the image would lose data.
    """
    base_info = info(base)
    base_format = str(base_info["format"])
    virtual = int(base_info["virtual-size"])  # type: ignore[call-overload]
    wanted = size_gb * GIB if size_gb else virtual
    if wanted < virtual:
        raise DiskError(
            f"the flavor's root disk ({size_gb} GB) is smaller than the image's virtual size "
            f"({virtual / GIB:.1f} GiB); choose a flavor with a larger disk"
        )
    _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", base_format, "-b", os.path.abspath(base), path, str(wanted))


def create_blank(path: str, size_mb: int, fmt: str = "qcow2") -> None:
    """An empty disk (ephemeral or swap)."""
    _run("qemu-img", "create", "-q", "-f", fmt, path, f"{size_mb}M")


def convert(source: str, dest: str, fmt: str = "qcow2", in_use: bool = False) -> None:
    """Flatten a disk (with its backing chain) into one standalone image, e.g. for a snapshot.

    ``in_use``: the disk belongs to a guest that is paused (or stopped but defined); read it
    without taking qemu's write lock, which the guest holds.
    """
    _run("qemu-img", "convert", "-q", *(["-U"] if in_use else []), "-O", fmt, source, dest)


def resize(path: str, size_gb: int) -> None:
    """Grow a disk to ``size_gb`` (never shrinks: qemu-img refuses without --shrink)."""
    _run("qemu-img", "resize", "-q", path, f"{size_gb}G")
