"""The Linux data plane end to end: two simulated hosts, guests in namespaces, real DHCP, VXLAN,
security groups, a router with SNAT and a floating IP, and an agent restart."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests import fixtures
from tests.e2e.network import sim
from tests.e2e.network.conftest import HOST_A, HOST_B, OUTSIDE, OUTSIDE_GATEWAY, PREFIX, UNDERLAY_B, agent_options

pytestmark = pytest.mark.e2e


_wait = fixtures.wait_until


class Tenant:
    """A project with a network, its guests, and an admin connection for binding ports to hosts."""

    def __init__(self, cloud: Any, cidr: str) -> None:
        self.creds = cloud.new_user()
        self.conn = cloud.connection(self.creds)
        self.admin = cloud.connection()
        self.net = self.conn.network.create_network(name=f"net-{uuid.uuid4().hex[:6]}")
        self.subnet = self.conn.network.create_subnet(network_id=self.net.id, ip_version=4, cidr=cidr,
                                                      dns_nameservers=["192.0.2.53"])
        self.guests: list[sim.Guest] = []

    def boot(self, host: str, workdir: str, **port_args: Any) -> tuple[sim.Guest, Any]:
        port = self.conn.network.create_port(network_id=self.net.id, device_owner="compute:nova",
                                             device_id=str(uuid.uuid4()), **port_args)
        port = self.admin.network.update_port(port.id, binding_host_id=host)
        name = f"{PREFIX}-g{len(self.guests)}-{port.id[:4]}"
        guest = sim.Guest(name, host, "tap" + port.id[:11], port.mac_address, workdir)
        self.guests.append(guest)
        _wait(lambda: self.admin.network.get_port(port.id).status == "ACTIVE", what=f"port {port.id} ACTIVE")
        return guest, port

    def cleanup(self) -> None:
        for guest in self.guests:
            guest.delete()


@pytest.fixture(scope="module")
def red(cloud, tmp_path_factory) -> Iterator[Tenant]:  # type: ignore[no-untyped-def]
    tenant = Tenant(cloud, "10.0.0.0/24")
    yield tenant
    tenant.cleanup()


@pytest.fixture(scope="module")
def blue(cloud) -> Iterator[Tenant]:  # type: ignore[no-untyped-def]
    tenant = Tenant(cloud, "10.0.0.0/24")  # the same range on purpose: only its own network is reachable
    yield tenant
    tenant.cleanup()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    return str(tmp_path_factory.mktemp("guests"))


def test_guests_on_two_hosts_get_dhcp_and_reach_each_other_only_on_their_network(cloud, red, blue, workdir):
    g1, p1 = red.boot(HOST_A, workdir)
    g2, p2 = red.boot(HOST_B, workdir)
    g3, p3 = blue.boot(HOST_A, workdir)
    assert g1.dhcp() == p1.fixed_ips[0]["ip_address"]
    assert g2.dhcp() == p2.fixed_ips[0]["ip_address"]
    assert g3.dhcp() == p3.fixed_ips[0]["ip_address"]
    # Across the VXLAN tunnel between the simulated hosts (the default group admits its own members).
    assert g1.can_reach(p2.fixed_ips[0]["ip_address"])
    assert g2.can_reach(p1.fixed_ips[0]["ip_address"])
    # blue's network uses the same range, but red's guests are not on it.
    others = {p1.fixed_ips[0]["ip_address"], p2.fixed_ips[0]["ip_address"]} - {p3.fixed_ips[0]["ip_address"]}
    assert not any(g3.ping(ip, count=2) for ip in others)
    # A guest cannot send from an address that is not its port's.
    spoofed = "10.0.0.250"
    sim.in_ns(g1.name, "ip", "addr", "add", f"{spoofed}/24", "dev", "eth0")
    assert not g1.ping(p2.fixed_ips[0]["ip_address"], count=2, source=spoofed)
    sim.in_ns(g1.name, "ip", "addr", "del", f"{spoofed}/24", "dev", "eth0")


def test_security_group_change_applies_without_restart(cloud, red, workdir):
    group = red.conn.network.create_security_group(name="locked")  # egress only
    g4, p4 = red.boot(HOST_B, workdir, security_group_ids=[group.id])
    assert g4.dhcp() == p4.fixed_ips[0]["ip_address"]
    g1 = red.guests[0]
    assert not g1.ping(p4.fixed_ips[0]["ip_address"], count=2)
    rule = red.conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                       protocol="icmp", remote_ip_prefix="10.0.0.0/24")
    _wait(lambda: g1.ping(p4.fixed_ips[0]["ip_address"]), what="ICMP allowed by the new rule")
    red.conn.network.delete_security_group_rule(rule)
    _wait(lambda: not g1.ping(p4.fixed_ips[0]["ip_address"]), what="ICMP blocked again")


def test_router_snat_and_floating_ip_from_outside(cloud, red):
    admin = red.admin
    public = admin.network.create_network(name="public", is_router_external=True, provider_network_type="flat",
                                          provider_physical_network="public")
    admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="172.24.4.0/24", enable_dhcp=False,
                                gateway_ip=OUTSIDE_GATEWAY,
                                allocation_pools=[{"start": "172.24.4.100", "end": "172.24.4.200"}])
    router = red.conn.network.create_router(name="edge", external_gateway_info={"network_id": public.id})
    red.conn.network.add_interface_to_router(router, subnet_id=red.subnet.id)
    g1 = red.guests[0]
    port1 = next(p for p in red.conn.network.ports(network_id=red.net.id, device_owner="compute:nova")
                 if p.fixed_ips[0]["ip_address"] == g1.address())
    # SNAT: the guest reaches the outside through the router's gateway address.
    assert _wait(lambda: g1.ping(OUTSIDE_GATEWAY), what="SNAT to the outside")
    default = next(g for g in red.conn.network.security_groups() if g.name == "default")
    red.conn.network.create_security_group_rule(security_group_id=default.id, direction="ingress",
                                                protocol="icmp", remote_ip_prefix="172.24.4.0/24")
    fip = red.conn.network.create_ip(floating_network_id=public.id, port_id=port1.id)
    _wait(lambda: sim.in_ns(OUTSIDE, "busybox", "ping", "-c", "1", "-W", "2", fip.floating_ip_address,
                            check=False).returncode == 0, what="the floating IP from outside")
    red.conn.network.update_ip(fip, port_id=None)
    _wait(lambda: sim.in_ns(OUTSIDE, "busybox", "ping", "-c", "1", "-W", "1", fip.floating_ip_address,
                            check=False).returncode != 0, what="the floating IP to stop answering")


def test_agent_restart_keeps_traffic_and_removes_stale_state(cloud, red, workdir):
    g1, g2 = red.guests[0], red.guests[1]
    target = g2.address()
    # A second network with a guest on host B: its DHCP namespace, bridge and rules live there.
    short_net = red.conn.network.create_network(name="short-lived")
    red.conn.network.create_subnet(network_id=short_net.id, ip_version=4, cidr="10.9.0.0/24")
    port = red.conn.network.create_port(network_id=short_net.id, device_owner="compute:nova",
                                        device_id=str(uuid.uuid4()))
    red.admin.network.update_port(port.id, binding_host_id=HOST_B)
    guest = sim.Guest(f"{PREFIX}-short", HOST_B, "tap" + port.id[:11], port.mac_address, workdir)
    red.guests.append(guest)
    _wait(lambda: red.admin.network.get_port(port.id).status == "ACTIVE", what="the short-lived port")
    dhcp_ns = f"{HOST_B}-qdhcp-{short_net.id}"
    assert dhcp_ns in sim.sh("ip", "netns", "list").stdout
    cloud.agent(HOST_B).stop()
    # While host B's agent is down, the network and its guest go away, and traffic keeps flowing.
    red.conn.network.delete_port(port)
    red.conn.network.delete_network(short_net)
    assert g1.can_reach(target)
    restarted = cloud.restart_agent(HOST_B, agent_options(HOST_B, UNDERLAY_B, l3=False))
    _wait(lambda: restarted.applied > 0, what="the restarted agent's first sync")
    assert g1.can_reach(target) and g2.can_reach(g1.address())
    assert dhcp_ns not in sim.sh("ip", "netns", "list").stdout
    links = sim.sh("ip", "-n", HOST_B, "-o", "link", "show").stdout
    assert f"brq{short_net.id[:11]}" not in links
    rules = sim.in_ns(HOST_B, "iptables", "-S").stdout
    assert port.id[:10] not in rules  # the gone port's chains are gone too
