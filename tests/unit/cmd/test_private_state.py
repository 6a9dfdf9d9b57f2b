"""State made private on start, except the way to the hypervisor's instance disks."""

from __future__ import annotations

import os
import stat

from nubis.cmd import common, private_state
from nubis.common import config


def _mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_make_private_keeps_the_instances_tree_reachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "state"
    (root / "images").mkdir(parents=True)
    (root / "instances" / "uuid-1").mkdir(parents=True)
    (root / "images" / "img").write_bytes(b"x")
    (root / "instances" / "uuid-1" / "disk").write_bytes(b"x")
    (root / "tool").write_bytes(b"#!/bin/sh\n")
    outside = tmp_path / "outside"
    outside.write_bytes(b"x")
    outside.chmod(0o644)
    (root / "link").symlink_to(outside)
    for path, mode in ((root, 0o755), (root / "images", 0o775), (root / "images" / "img", 0o644),
                       (root / "instances", 0o755), (root / "instances" / "uuid-1" / "disk", 0o644),
                       (root / "tool", 0o755)):
        path.chmod(mode)
    private_state.make_private(str(root), [str(root / "instances")])
    assert _mode(root) == 0o711  # others may pass through to the instances, not list
    assert _mode(root / "images") == 0o700 and _mode(root / "images" / "img") == 0o600
    assert _mode(root / "tool") == 0o700  # the owner's bits stay
    assert _mode(root / "instances") == 0o755 and _mode(root / "instances" / "uuid-1" / "disk") == 0o644
    assert _mode(outside) == 0o644  # links are not followed

    private_state.make_private(str(root))
    assert _mode(root) == 0o700 and _mode(root / "instances") == 0o700
    assert _mode(root / "instances" / "uuid-1" / "disk") == 0o600


def test_hypervisor_paths_only_with_libvirt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from nubis import services

    conf = common.build_conf([services.load("compute")])
    config.parse_args(conf, [], default_config_files=[])
    conf.set_override("state_path", str(tmp_path))
    assert private_state.hypervisor_paths(conf) == []
    conf.set_override("virt_driver", "libvirt", group="compute")
    assert private_state.hypervisor_paths(conf) == [os.path.join(str(tmp_path), "instances")]
    assert private_state.hypervisor_paths(common.build_conf([])) == []
