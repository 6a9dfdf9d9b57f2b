"""Config drives: an ISO9660 volume labelled ``config-2`` with the metadata files.

The files are those the metadata service serves (``openstack/latest/meta_data.json``,
``user_data``, ``network_data.json``, ``vendor_data2.json``, and the EC2 tree),
so cloud-init reads the same data with or without a network path to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping


class ConfigDriveError(RuntimeError):
    pass


def _tool() -> str:
    for name in ("genisoimage", "mkisofs", "xorrisofs"):
        path = shutil.which(name)
        if path:
            return path
    raise ConfigDriveError("no ISO9660 tool found: install genisoimage to build config drives")


def build(path: str, files: Mapping[str, bytes]) -> None:
    """Write an ISO at ``path`` holding ``files`` (relative path -> content)."""
    with tempfile.TemporaryDirectory() as root:
        for rel, content in files.items():
            if rel.startswith("/") or ".." in rel.split("/"):
                raise ConfigDriveError(f"refusing config drive path {rel!r}")
            target = os.path.join(root, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(content)
        proc = subprocess.run(
            [_tool(), "-o", path, "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
             "-publisher", "Nubis", "-quiet", "-J", "-r", "-V", "config-2", root],
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise ConfigDriveError(f"building the config drive failed: {proc.stderr.strip()}")
