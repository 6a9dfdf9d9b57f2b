"""Real guests (qemu/TCG through libvirt) on a tenant VXLAN network spanning two simulated hosts.

The all-in-one runs compute and the network agent for host A; host B gets a
second compute agent (same libvirtd) and a second network agent. Each host's
network stack is a namespace, so the test moves each guest's tap into its
host's namespace as soon as libvirt creates it, just where a real host's tap
would be. The guests get their addresses by DHCP, read their own instance id
from the metadata service, answer on TCP 7777 across the tunnel and through a
floating IP from the "outside" namespace.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pytest

libvirt = pytest.importorskip("libvirt")

from nubis import services  # noqa: E402
from nubis.cmd import common  # noqa: E402
from nubis.common import config  # noqa: E402
from nubis.common.runtime import Runtime  # noqa: E402
from nubis.compute import agent_service as compute_agent_service  # noqa: E402
from nubis.network.agent.manager import NetworkAgent  # noqa: E402
from tests import fixtures  # noqa: E402
from tests.e2e import journey  # noqa: E402
from tests.e2e.guests import console_until, domains, upload_test_image  # noqa: E402
from tests.e2e.network import sim  # noqa: E402
from tests.e2e.network.conftest import (  # noqa: E402
    HOST_A,
    HOST_B,
    OUTSIDE,
    OUTSIDE_GATEWAY,
    PREFIX,
    UNDERLAY_A,
    UNDERLAY_B,
    agent_options,
    start_agent,
)
from tests.functional.cloud import Cloud, running_cloud  # noqa: E402
from tests.functional.compute.conftest import wait_for_status  # noqa: E402

pytestmark = pytest.mark.e2e

SERVICES = ["image", "placement", "scheduler", "compute-api", "conductor", "compute", "network", "network-agent",
            "metadata"]


def _start_compute(cloud: Cloud, host: str, instances: str) -> list[Any]:
    aio = cloud.aio
    assert aio.runtime is not None
    conf = common.build_conf([services.load(n) for n in ["identity", *SERVICES]])
    config.parse_args(conf, [], default_config_files=[os.path.join(aio.state_dir, "all-in-one.conf")])
    conf.set_override("host", host)
    conf.set_override("instances_path", instances, group="libvirt")
    return list(compute_agent_service.start(Runtime(conf, messaging=aio.runtime.messaging)))


class TapMover:
    """Moves each guest's tap from libvirt's namespace into the namespace of the host its port is bound to."""

    def __init__(self, admin: Any) -> None:
        self.admin = admin
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            taps = [line.split(":")[1].strip().split("@")[0] for line in
                    sim.sh("ip", "-o", "link", "show").stdout.splitlines() if ": tap" in line]
            if taps:
                hosts = {"tap" + p.id[:11]: p.binding_host_id for p in self.admin.network.ports()
                         if p.device_owner.startswith("compute:")}
                for tap in taps:
                    if hosts.get(tap) in (HOST_A, HOST_B):
                        sim.sh("ip", "link", "set", tap, "netns", hosts[tap], check=False)
            self.stop.wait(0.1)


@pytest.fixture(scope="module")
def cloud(hosts, tmp_path_factory) -> Iterator[Cloud]:  # type: ignore[no-untyped-def]
    try:
        libvirt.open("qemu:///system").close()
    except libvirt.libvirtError as exc:
        pytest.fail(f"libvirtd is not running: {exc}")
    tmp = tmp_path_factory.mktemp("networked-guests")
    dirs = [tempfile.mkdtemp(prefix=f"nubis-e2e-{h}-", dir="/var/tmp") for h in ("a", "b")]
    for d in dirs:
        os.chmod(d, 0o755)  # qemu runs as libvirt-qemu
    cfg = {"identity": {"password_hash_rounds": "4"},
           "compute": {"report_interval": "1", "sync_power_state_interval": "0", "vif_plugging_timeout": "120"},
           "libvirt": {"virt_type": "qemu", "shutdown_timeout": "10", "instances_path": dirs[0],
                       "cpu_dedicated_set": "1", "cpu_shared_set": "0"},
           "network": {"flat_networks": "public", "vni_ranges": "300:399"},
           "DEFAULT": {"host": HOST_A},
           "network_agent": agent_options(HOST_A, UNDERLAY_A, l3=True)}
    extra: list[Any] = []
    mover = None
    try:
        with running_cloud(tmp / "cloud", SERVICES, virt="libvirt", extra_config=cfg) as c:
            try:
                extra += start_agent(c, HOST_B, agent_options(HOST_B, UNDERLAY_B, l3=False))
                extra += _start_compute(c, HOST_B, dirs[1])
                mover = TapMover(c.connection())
                yield c
            finally:
                if mover is not None:
                    mover.stop.set()
                agents = [i for i in [*c.aio.running, *extra] if isinstance(i, NetworkAgent)]
                for item in reversed(extra):
                    item.stop()
                for agent in agents:
                    agent.stop()
                    agent.dataplane.teardown()  # type: ignore[attr-defined]
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def image_id(cloud: Cloud, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    return upload_test_image(cloud.connection(), str(tmp_path_factory.mktemp("test-image")))


def test_two_guests_on_two_hosts_dhcp_metadata_tunnel_and_floating_ip(cloud, image_id, tmp_path):
    admin = cloud.connection()
    creds = cloud.new_user(roles=("member", "reader"))
    conn = cloud.connection(creds)
    flavor = admin.compute.create_flavor(name="g1.tiny", ram=256, vcpus=1, disk=1)
    net = conn.network.create_network(name="tenant-net")
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.0.0.0/24")
    default = next(g for g in conn.network.security_groups() if g.name == "default")
    conn.network.create_security_group_rule(security_group_id=default.id, direction="ingress", protocol="tcp",
                                            port_range_min=7777, port_range_max=7777,
                                            remote_ip_prefix="172.24.4.0/24")
    group = conn.compute.create_server_group(name="spread", policy="anti-affinity")
    servers = []
    try:
        for i in range(2):  # one after the other: the group's hosts are read when a boot is accepted
            extra = {}
            if servers:  # the second guest calls the first one across the tunnel, from inside
                first_ip = next(iter(conn.network.ports(device_id=servers[0].id))).fixed_ips[0]["ip_address"]
                script = (f"#!/bin/sh\nfor i in $(seq 1 90); do r=$(nc -w 2 {first_ip} 7777) && [ -n \"$r\" ] && "
                          f"echo \"PEER $r\" && break; sleep 1; done\n")
                extra["user_data"] = base64.b64encode(script.encode()).decode()
            server = conn.compute.create_server(name=f"vm-{i}", image_id=image_id, flavor_id=flavor.id,
                                                networks=[{"uuid": net.id}], scheduler_hints={"group": group.id},
                                                **extra)
            servers.append(wait_for_status(conn, server.id, "ACTIVE", timeout=180))
        _check_guests(cloud, admin, conn, servers, net, subnet, tmp_path)
        peer = console_until(conn, servers[1], "NUBIS-USER-DATA: PEER", timeout=180)
        assert f"NUBIS-USER-DATA: PEER NUBIS-TCP {servers[0].id}" in peer  # guest to guest, host B to host A
    finally:
        for server in servers:
            conn.compute.delete_server(server.id)
        for server in servers:
            conn.compute.wait_for_delete(server, wait=60)
    assert domains() == []
    assert list(conn.network.ports(network_id=net.id, device_owner="compute:nova")) == []


def _check_guests(cloud: Any, admin: Any, conn: Any, servers: list[Any], net: Any, subnet: Any,
                  tmp_path: Any) -> None:
    hosts = {admin.compute.get_server(s.id).compute_host for s in servers}
    assert hosts == {HOST_A, HOST_B}
    addresses = {}
    for server in servers:
        port = next(iter(conn.network.ports(device_id=server.id)))
        assert port.status == "ACTIVE"
        addresses[server.id] = port.fixed_ips[0]["ip_address"]
        text = console_until(conn, server, "NUBIS-READY", timeout=180)
        assert f"NUBIS-IP={addresses[server.id]}/24" in text  # DHCP handed out the port's address
        assert "NUBIS-METADATA-SOURCE=metadata-service" in text and f"NUBIS-UUID={server.id}" in text
        assert f"NUBIS-HOSTNAME={server.name}" in text
    # A guest (a namespace) on host A of the same network reaches both real guests, one across the tunnel.
    probe_port = conn.network.create_port(network_id=net.id, device_owner="compute:nova", device_id="probe")
    admin.network.update_port(probe_port.id, binding_host_id=HOST_A)
    probe = sim.Guest(f"{PREFIX}-probe", HOST_A, "tap" + probe_port.id[:11], probe_port.mac_address, str(tmp_path))
    try:
        assert probe.dhcp() == probe_port.fixed_ips[0]["ip_address"]
        for server in servers:
            assert journey.tcp_banner(probe.name, addresses[server.id]) == f"NUBIS-TCP {server.id}"
        # Another project's network with the same range does not lead to them.
        other = cloud.connection(cloud.new_user(roles=("member", "reader")))
        other_net = other.network.create_network(name="other")
        other.network.create_subnet(network_id=other_net.id, ip_version=4, cidr="10.0.0.0/24")
        stranger_port = other.network.create_port(network_id=other_net.id, device_owner="compute:nova",
                                                  device_id="stranger")
        admin.network.update_port(stranger_port.id, binding_host_id=HOST_A)
        stranger = sim.Guest(f"{PREFIX}-stranger", HOST_A, "tap" + stranger_port.id[:11],
                             stranger_port.mac_address, str(tmp_path))
        try:
            stranger.dhcp()
            assert not any(journey.tcp_banner(stranger.name, addresses[s.id], attempts=2) for s in servers
                           if addresses[s.id] != stranger.address())
        finally:
            stranger.delete()
            other.network.delete_port(stranger_port)
            other.network.delete_network(other_net)
        # A floating IP brings the guest on host B to the outside.
        public = admin.network.create_network(name="public", is_router_external=True,
                                              provider_network_type="flat", provider_physical_network="public")
        admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="172.24.4.0/24", enable_dhcp=False,
                                    gateway_ip=OUTSIDE_GATEWAY,
                                    allocation_pools=[{"start": "172.24.4.100", "end": "172.24.4.200"}])
        router = conn.network.create_router(name="edge", external_gateway_info={"network_id": public.id})
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        far = next(s for s in servers if admin.compute.get_server(s.id).compute_host == HOST_B)
        fip = conn.network.create_ip(floating_network_id=public.id,
                                     port_id=next(iter(conn.network.ports(device_id=far.id))).id)
        assert journey.tcp_banner(OUTSIDE, fip.floating_ip_address) == f"NUBIS-TCP {far.id}"
        conn.network.delete_ip(fip)
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
        conn.network.delete_router(router)
    finally:
        probe.delete()
        conn.network.delete_port(probe_port)


def test_nothing_is_left_on_the_hosts_after_the_guests_go(cloud):
    # The DHCP namespaces of the deleted guests' network go once no guest of it is left on a host.
    def dhcp_namespaces() -> list[str]:
        return [n for n in sim.sh("ip", "netns", "list").stdout.split() if "qdhcp-" in n]
    fixtures.wait_until(lambda: dhcp_namespaces() == [], timeout=30, interval=0.5,
                        what="the DHCP namespaces to go")
    assert not [line for line in sim.sh("ip", "-o", "link", "show").stdout.splitlines() if ": tap" in line]


def test_a_newcomers_first_vm(cloud, tmp_path):
    """The README's first-VM walk, as a new non-admin user, and both hosts left clean at the end."""
    instances = cloud.aio.runtime.conf.libvirt.instances_path  # type: ignore[union-attr]
    journey.first_vm(cloud, str(tmp_path), OUTSIDE, OUTSIDE_GATEWAY, hosts=(HOST_A, HOST_B),
                     instance_dirs=[instances])
