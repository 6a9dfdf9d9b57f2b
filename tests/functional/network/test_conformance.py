"""Behaviour Tempest's network suite checks against Neutron: rule validation and duplicates, tag limits,
service-owned ports that go with their subnet or network."""

from __future__ import annotations

import uuid
from typing import Any


def _error(resp: Any) -> tuple[int, str, str]:
    body = resp.json()["NeutronError"]
    return resp.status_code, body["type"], body["message"]


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def _rule(conn, group_id: str, **attrs: Any) -> Any:  # type: ignore[no-untyped-def]
    return conn.network.post("/security-group-rules", json={"security_group_rule": {
        "security_group_id": group_id, **attrs}}, raise_exc=False)


def test_a_port_range_needs_its_start(cloud, demo):
    _, conn = demo
    group = conn.network.create_security_group(name=_name())
    resp = _rule(conn, group.id, direction="ingress", protocol="tcp", port_range_min=None, port_range_max=6)
    status, kind, message = _error(resp)
    assert (status, kind) == (400, "SecurityGroupInvalidPortRange")
    assert "port_range_min must be <= port_range_max" in message
    conn.network.delete_security_group(group)


def test_duplicate_rules_are_found_as_neutron_compares_them(cloud, demo):
    _, conn = demo
    group = conn.network.create_security_group(name=_name())
    egress = {r["ethertype"]: r["id"] for r in group.security_group_rules}
    # The default egress rules again, with the prefix a missing one stands for.
    for ethertype, prefix in (("IPv4", "0.0.0.0/0"), ("IPv6", "::/0")):
        for extra in ({}, {"remote_ip_prefix": prefix}):
            resp = _rule(conn, group.id, direction="egress", ethertype=ethertype, **extra)
            status, kind, message = _error(resp)
            assert (status, kind) == (409, "SecurityGroupRuleExists"), (ethertype, extra)
            assert egress[ethertype] in message
    web = _rule(conn, group.id, direction="ingress", protocol="tcp", port_range_min=80, port_range_max=80)
    assert web.status_code == 201
    same_by_number = _rule(conn, group.id, direction="ingress", protocol="6", port_range_min=80, port_range_max=80,
                           remote_ip_prefix="0.0.0.0/0")
    assert _error(same_by_number)[:2] == (409, "SecurityGroupRuleExists")
    other_port = _rule(conn, group.id, direction="ingress", protocol="6", port_range_min=81, port_range_max=81)
    assert other_port.status_code == 201 and other_port.json()["security_group_rule"]["protocol"] == "6"
    conn.network.delete_security_group(group)


def test_tags_are_at_most_60_characters_everywhere(cloud, demo):
    _, conn = demo
    net = conn.network.create_network(name=_name())
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.61.0.0/24")
    group = conn.network.create_security_group(name=_name())
    router = conn.network.create_router(name=_name())
    port = conn.network.create_port(network_id=net.id)
    for collection, ident in (("networks", net.id), ("subnets", subnet.id), ("ports", port.id),
                              ("security-groups", group.id), ("routers", router.id)):
        ok = conn.network.put(f"/{collection}/{ident}/tags/{'a' * 60}", raise_exc=False)
        assert ok.status_code == 201, collection
        long = conn.network.put(f"/{collection}/{ident}/tags/{'a' * 61}", raise_exc=False)
        assert long.status_code == 400, collection
        replaced = conn.network.put(f"/{collection}/{ident}/tags", json={"tags": ["b" * 61]}, raise_exc=False)
        assert replaced.status_code == 400, collection
        assert conn.network.get(f"/{collection}/{ident}/tags").json()["tags"] == ["a" * 60]
    conn.network.delete_port(port)
    conn.network.delete_router(router)
    conn.network.delete_security_group(group)
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)


def test_dhcp_ports_go_with_the_last_subnet(cloud, admin, demo):
    creds, conn = demo
    net = conn.network.create_network(name=_name())
    first = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.62.0.0/24")
    second = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.62.1.0/24")
    dhcp = admin.network.create_port(network_id=net.id, device_owner="network:dhcp", device_id="dhcp-host1",
                                     project_id=net.project_id,
                                     fixed_ips=[{"subnet_id": first.id}, {"subnet_id": second.id}])
    assert dhcp.security_group_ids == []
    vm = conn.network.create_port(network_id=net.id, fixed_ips=[{"subnet_id": first.id}])
    busy = conn.network.delete(f"/subnets/{first.id}", raise_exc=False)
    assert _error(busy)[:2] == (409, "SubnetInUse")
    conn.network.delete_port(vm)
    conn.network.delete_subnet(first)  # the DHCP address goes; the port still serves the second subnet
    kept = admin.network.get_port(dhcp.id)
    assert [ip["subnet_id"] for ip in kept.fixed_ips] == [second.id]
    conn.network.delete_subnet(second)  # the last subnet: the DHCP port goes with it
    assert admin.network.get(f"/ports/{dhcp.id}", raise_exc=False).status_code == 404
    assert list(admin.network.ports(network_id=net.id)) == []
    conn.network.delete_network(net)
    assert conn.network.get(f"/networks/{net.id}", raise_exc=False).status_code == 404


def test_network_and_security_group_delete_right_after_the_ports(cloud, admin, demo):
    _, conn = demo
    net = conn.network.create_network(name=_name())
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.63.0.0/24")
    group = conn.network.create_security_group(name=_name())
    admin.network.create_port(network_id=net.id, device_owner="network:dhcp", device_id="dhcp-host1",
                              project_id=net.project_id)
    port = conn.network.create_port(network_id=net.id, security_group_ids=[group.id])
    conn.network.delete_port(port)
    conn.network.delete_security_group(group)
    conn.network.delete_network(net)  # its subnet and DHCP port with it
    assert conn.network.get(f"/subnets/{subnet.id}", raise_exc=False).status_code == 404
