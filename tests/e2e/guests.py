"""What the end-to-end tests with real guests share: the test image and reading a guest's console."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest

from tests import fixtures
from tools import testimage


def upload_test_image(conn: Any, workdir: str, visibility: str = "public") -> str:
    """Build the kernel + busybox test image (the kernel package is cached) and upload it; its id."""
    paths = testimage.build(workdir, os.path.expanduser("~/.cache/nubis-test-image"))
    return testimage.upload(paths, "nubis-test-image", conn, visibility)


def console_until(conn: Any, server: Any, marker: str, timeout: float = 120) -> str:
    """The guest's console output once ``marker`` is on it."""
    seen = [""]

    def console() -> str:
        seen[0] = conn.compute.get_server_console_output(server)["output"]
        return seen[0] if marker in seen[0] else ""

    return fixtures.wait_until(console, timeout=timeout, interval=0.5,  # type: ignore[no-any-return]
                               what=lambda: f"{marker!r} on the console of {server.id}:\n{seen[0][-2000:]}")


def domains() -> list[str]:
    """Names of the Nubis guests libvirt knows (running or not)."""
    import libvirt

    from nubis.compute.virt.libvirt.guest_config import DOMAIN_PREFIX

    conn = libvirt.open("qemu:///system")
    try:
        return [d.name() for d in conn.listAllDomains(0) if d.name().startswith(DOMAIN_PREFIX)]
    finally:
        conn.close()


def instances_dir(prefix: str) -> str:
    """A fresh directory for instance disks, once libvirtd answers (the test fails if it does not).

    Under /var/tmp and world-traversable: qemu runs as libvirt-qemu and must reach the disks, and pytest's own
    tmp tree is private to root.
    """
    import libvirt

    try:
        libvirt.open("qemu:///system").close()
    except libvirt.libvirtError as exc:
        pytest.fail(f"libvirtd is not running: {exc}")
    path = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
    os.chmod(path, 0o755)
    return path
