"""Keeping a Nubis process's state readable by its own user only.

State holds password hashes (identity DB), Fernet keys, user data (every
service DB), private images and logs. Every command sets the umask to 077
first, so what it creates is 0600/0700; and on start it takes group and
other permissions off what an older version (or another umask) left in the
state directory, so an upgrade closes the hole too.

The one exception is the hypervisor's side: with the libvirt driver, QEMU
runs as its own user (libvirt-qemu) and must reach the instance disks. The
instances directory keeps its own modes, and the directories above it keep
only the search (x) bit for others: they can pass through, not list.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Sequence

from oslo_config import cfg

LOG = logging.getLogger(__name__)

UMASK = 0o077


def hypervisor_paths(conf: cfg.ConfigOpts) -> list[str]:
    """Directories the hypervisor's user must reach: the libvirt instances path, when libvirt runs guests."""
    try:
        if conf.compute.virt_driver != "libvirt":
            return []
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return []
    from nubis.compute.virt.libvirt import conf as libvirt_conf

    return [libvirt_conf.instances_path(conf)]


def _within(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip(os.sep) + os.sep)


def make_private(root: str, shared: Sequence[str] = ()) -> None:
    """Create ``root`` if needed and take group/other permissions off it and everything in it.

    Subtrees in ``shared`` are left as they are; directories on the way to one
    keep the search bit for others (0711).
    """
    os.makedirs(root, mode=0o700, exist_ok=True)
    root = os.path.realpath(root)
    shared_real = [os.path.realpath(p) for p in shared]
    inside = [p for p in shared_real if _within(p, root)]
    for directory, subdirs, files in os.walk(root):
        _restrict(directory, 0o711 if any(_within(p, directory) for p in inside) else 0o700)
        subdirs[:] = [d for d in subdirs if os.path.join(directory, d) not in shared_real]
        for name in files:
            _restrict(os.path.join(directory, name), 0o600)


def _restrict(path: str, mode: int) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        return  # a link's target is somebody else's business
    current = stat.S_IMODE(info.st_mode)
    # Keep the owner's bits (an executable stays executable); set group/other to what `mode` allows.
    wanted = (current & 0o700) | (mode & 0o077)
    if current != wanted:
        os.chmod(path, wanted)


def protect(conf: cfg.ConfigOpts) -> None:
    """umask 077 for this process, and its ``state_path`` private (see the module docstring)."""
    os.umask(UMASK)
    make_private(conf.state_path, hypervisor_paths(conf))
