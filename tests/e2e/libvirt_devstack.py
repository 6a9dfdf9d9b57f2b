"""devstack/stack.sh with libvirt (qemu/TCG) guests and a reachable external network, for e2e tests.

The external network's uplink is a veth pair; its far end, in an "outside" namespace the test makes,
holds the outside gateway address and is where floating IPs are reached from. Whatever happens in the
test, the stack is unstacked, the agent's data plane torn down and the namespace, link and instance
directory removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.network import sim
from tests.e2e.test_devstack import ROOT, _env
from tests.functional.cloud import Cloud
from tools import ports

GATEWAY = "172.24.4.1"


@dataclass
class LibvirtStack:
    """A running libvirt devstack: its admin ``cloud``, the ``outside`` namespace, where guests' disks
    live (``instances``), the stack's ``state`` directory (logs under ``state/logs``) and its port offset."""

    cloud: Cloud
    outside: str
    instances: str
    state: str
    offset: int


@contextlib.contextmanager
def libvirt_devstack(tmp_path, extra_env: dict[str, str] | None = None,  # type: ignore[no-untyped-def]
                     stack_timeout: float = 600) -> Iterator[LibvirtStack]:
    """Run stack.sh (root only) with libvirt guests and ``extra_env``; yield the stack; unstack it.

    Raises ``pytest.fail`` when not root or when stack.sh fails (with the end of its output).
    """
    libvirt = pytest.importorskip("libvirt")
    if os.geteuid() != 0:
        pytest.fail("devstack needs root")
    libvirt.open("qemu:///system").close()
    tag = uuid.uuid4().hex[:5]
    outside, uplink = f"nbt{tag}-outside", f"nbtup{tag}"
    instances = tempfile.mkdtemp(prefix="nubis-e2e-devstack-", dir="/var/tmp")
    os.chmod(instances, 0o755)  # qemu runs as libvirt-qemu
    local_conf = tmp_path / "local.conf"
    local_conf.write_text(
        "[libvirt]\nvirt_type = qemu\nshutdown_timeout = 10\n"
        f"instances_path = {instances}\ncpu_dedicated_set = 1\ncpu_shared_set = 0\n"
        "[compute]\nvif_plugging_timeout = 120\n"
        f"[network_agent]\nbridge_mappings = public:{uplink}\npoll_interval = 0.2\n"
        "[network]\nflat_networks = public\nvni_ranges = 700:799\n")
    offset = ports.free_service_offset()
    env = {**_env(tmp_path, offset), "NUBIS_VIRT": "libvirt", "NUBIS_LOCAL_CONF": str(local_conf),
           **(extra_env or {})}
    state = str(tmp_path / "state")
    sim.add_ns(outside)
    try:
        sim.sh("ip", "link", "add", uplink, "type", "veth", "peer", "name", f"{uplink}o")
        sim.sh("ip", "link", "set", f"{uplink}o", "netns", outside, "name", "uplink")
        sim.sh("ip", "-n", outside, "addr", "add", f"{GATEWAY}/24", "dev", "uplink")
        sim.sh("ip", "-n", outside, "link", "set", "uplink", "up")
        sim.sh("ip", "link", "set", uplink, "up")
        stack = subprocess.run([os.path.join(ROOT, "devstack", "stack.sh")], env=env, capture_output=True,
                               text=True, timeout=stack_timeout)
        unstacked = None
        try:
            assert stack.returncode == 0, stack.stdout[-3000:] + stack.stderr[-3000:]
            yield LibvirtStack(Cloud.from_openrc(os.path.join(state, "openrc")), outside, instances, state, offset)
        finally:
            unstacked = subprocess.run([os.path.join(ROOT, "devstack", "unstack.sh"), "--purge"], env=env,
                                       capture_output=True, text=True, timeout=300)
            _teardown_dataplane(state)
        assert unstacked.returncode == 0, unstacked.stderr
    finally:
        sim.sh("ip", "link", "del", uplink, check=False)
        sim.delete_ns(outside)
        shutil.rmtree(instances, ignore_errors=True)


def _teardown_dataplane(state: str) -> None:
    """What the stopped agent left wired (it keeps the data plane across restarts) goes with the test,
    even when the test failed half way."""
    from nubis.network.agent.dataplane import LinuxDataPlane
    from nubis.network.agent.ip import Netns
    from nubis.network.agent.metadata_proxy import MetadataProxies

    agent_state = os.path.join(state, "network-agent", socket.gethostname())
    if os.path.isdir(agent_state):
        LinuxDataPlane(Netns(""), agent_state, None, 4789, {}, 600,
                       MetadataProxies("http://127.0.0.1", "", lambda _n, _a: None)).teardown()
