"""The newcomer's first VM against devstack/stack.sh: every service its own process on MariaDB,
RabbitMQ and memcached, libvirt (qemu/TCG) guests, the network agent on this machine's own stack.

The external network's uplink is a veth pair; its far end, in an "outside" namespace the test makes,
holds the outside gateway address and is where the floating IP is reached from.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest

from nubis import services
from tests.e2e import journey
from tests.e2e.network import sim
from tests.e2e.test_devstack import ROOT, _env
from tests.functional.cloud import Cloud
from tools import ports

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif("network" not in services.available(), reason="needs the network service"),
]

GATEWAY = "172.24.4.1"


def test_first_vm_on_devstack(tmp_path) -> None:  # type: ignore[no-untyped-def]
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
    env = {**_env(tmp_path, ports.free_service_offset()), "NUBIS_VIRT": "libvirt",
           "NUBIS_LOCAL_CONF": str(local_conf)}
    sim.add_ns(outside)
    try:
        sim.sh("ip", "link", "add", uplink, "type", "veth", "peer", "name", f"{uplink}o")
        sim.sh("ip", "link", "set", f"{uplink}o", "netns", outside, "name", "uplink")
        sim.sh("ip", "-n", outside, "addr", "add", f"{GATEWAY}/24", "dev", "uplink")
        sim.sh("ip", "-n", outside, "link", "set", "uplink", "up")
        sim.sh("ip", "link", "set", uplink, "up")
        stack = subprocess.run([os.path.join(ROOT, "devstack", "stack.sh")], env=env, capture_output=True,
                               text=True, timeout=600)
        try:
            assert stack.returncode == 0, stack.stdout[-3000:] + stack.stderr[-3000:]
            cloud = Cloud.from_openrc(str(tmp_path / "state" / "openrc"))
            journey.first_vm(cloud, str(tmp_path / "work"), outside, GATEWAY, hosts=("",),
                             instance_dirs=[instances], marker=str(tmp_path / "state"))
        finally:
            unstack = subprocess.run([os.path.join(ROOT, "devstack", "unstack.sh"), "--purge"], env=env,
                                     capture_output=True, text=True, timeout=300)
            _teardown_dataplane(str(tmp_path / "state"))
        assert unstack.returncode == 0, unstack.stderr
    finally:
        sim.sh("ip", "link", "del", uplink, check=False)
        sim.delete_ns(outside)
        shutil.rmtree(instances, ignore_errors=True)


def _teardown_dataplane(state: str) -> None:
    """What the stopped agent left wired (it keeps the data plane across restarts) goes with the test,
    even when the journey failed half way."""
    from nubis.network.agent.dataplane import LinuxDataPlane
    from nubis.network.agent.ip import Netns
    from nubis.network.agent.metadata_proxy import MetadataProxies

    agent_state = os.path.join(state, "network-agent", socket.gethostname())
    if os.path.isdir(agent_state):
        LinuxDataPlane(Netns(""), agent_state, None, 4789, {}, 600,
                       MetadataProxies("http://127.0.0.1", "", lambda _n, _a: None)).teardown()
