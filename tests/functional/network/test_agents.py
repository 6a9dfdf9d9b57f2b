"""Agents register, heartbeat and wire bound ports (the no-op data plane of fake hosts), through the real RPC."""

from __future__ import annotations

import uuid

import pytest

from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.network.conftest import CONFIG


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def agent_cloud(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("network-agents")
    with fixtures.backend_config(request.param, str(tmp)) as backend:
        extra = {**CONFIG, **backend, "network_agent": {"poll_interval": "0.2", "report_interval": "2",
                                                        "l3": "true", "tunnel_ip": "192.0.2.10"}}
        with cloud_fixture.running_cloud(tmp, ["network", "network-agent"], extra_config=extra) as c:
            yield c


_wait = fixtures.wait_until


def test_agent_registers_and_is_alive(agent_cloud):
    rows = _wait(lambda: agent_cloud.openstack("network", "agent", "list"))
    assert len(rows) == 1
    row = rows[0]
    assert row["Agent Type"] == "Linux bridge agent" and row["Alive"] in (True, ":-)")
    agent = agent_cloud.connection().network.get_agent(row["ID"])
    assert agent.configuration["tunnel_ip"] == "192.0.2.10" and agent.configuration["dataplane"] == "noop"
    assert agent.binary == "nubis-network-agent"


def test_bound_port_goes_active_and_its_network_gets_dhcp(agent_cloud):
    admin = agent_cloud.connection()
    host = admin.network.agents().__next__().host
    net = admin.network.create_network(name=f"wired-{uuid.uuid4().hex[:6]}")
    sub = admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.210.0.0/24")
    port = admin.network.create_port(network_id=net.id, device_owner="compute:nova", device_id=str(uuid.uuid4()),
                                     binding_host_id=host)
    assert port.status == "DOWN"
    _wait(lambda: admin.network.get_port(port.id).status == "ACTIVE")
    dhcp = _wait(lambda: list(admin.network.ports(network_id=net.id, device_owner="network:dhcp")))
    assert dhcp[0].binding_host_id == host and dhcp[0].fixed_ips[0]["subnet_id"] == sub.id
    moved = admin.network.update_port(port, binding_host_id="elsewhere")
    assert moved.status == "DOWN"  # the new host has not wired it
    admin.network.delete_port(port)
    _wait(lambda: not list(admin.network.ports(network_id=net.id, device_owner="network:dhcp")))
    admin.network.delete_network(net)


def test_router_ports_are_wired_on_the_l3_host(agent_cloud):
    admin = agent_cloud.connection()
    net = admin.network.create_network(name=f"routed-{uuid.uuid4().hex[:6]}")
    sub = admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.211.0.0/24")
    router = admin.network.create_router(name="r")
    added = admin.network.add_interface_to_router(router, subnet_id=sub.id)
    host = admin.network.agents().__next__().host
    port = _wait(lambda: (p := admin.network.get_port(added["port_id"])).binding_host_id == host and p)
    assert port.binding_host_id == host
    admin.network.remove_interface_from_router(router, subnet_id=sub.id)
    admin.network.delete_router(router)
    admin.network.delete_network(net)
