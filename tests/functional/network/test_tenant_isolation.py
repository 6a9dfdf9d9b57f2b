"""Tenant isolation in the Networking API: what a non-owner may set on a shared network's ports (Neutron's
default policy), that every port made through the API counts against the quota, and that values of the wrong
type are refused with a 400 instead of being stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


def _error(resp: Any) -> tuple[int, str, str]:
    body = resp.json()["NeutronError"]
    return resp.status_code, body["type"], body["message"]


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def shared(admin):  # type: ignore[no-untyped-def]
    """A network the admin's project owns and shares with everyone, with one subnet."""
    net = admin.network.create_network(name=_name(), is_shared=True)
    sub = admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.91.0.0/24")
    yield net, sub
    for port in admin.network.ports(network_id=net.id):
        admin.network.delete_port(port)
    admin.network.delete_network(net)


def test_a_non_owner_of_a_shared_network_cannot_choose_addresses_or_filtering(cloud, demo, shared):
    _, conn = demo
    net, sub = shared
    refused = {
        "create_port:fixed_ips:ip_address": {"fixed_ips": [{"subnet_id": sub.id, "ip_address": "10.91.0.50"}]},
        "create_port:mac_address": {"mac_address": "fa:16:3e:01:02:03"},
        "create_port:allowed_address_pairs": {"allowed_address_pairs": [{"ip_address": "0.0.0.0/0"}]},
        "create_port:port_security_enabled": {"port_security_enabled": False},
        "create_port:device_owner": {"device_owner": "network:dhcp"},
    }
    for rule, extra in refused.items():
        resp = conn.network.post("/ports", json={"port": {"network_id": net.id, **extra}}, raise_exc=False)
        status, kind, message = _error(resp)
        assert (status, kind) == (403, "PolicyNotAuthorized") and rule in message, (extra, resp.text)
    router_port = conn.network.post("/ports", json={"port": {"network_id": net.id,
                                                             "device_owner": "network:router_interface"}},
                                    raise_exc=False)
    assert router_port.status_code == 403
    # What stays allowed: an address from a subnet the service picks, any non-network device owner.
    port = conn.network.create_port(network_id=net.id, fixed_ips=[{"subnet_id": sub.id}], device_owner="compute:nova")
    assert port.fixed_ips[0]["subnet_id"] == sub.id and port.is_port_security_enabled
    refused_updates = {
        "update_port:fixed_ips:ip_address": {"fixed_ips": [{"subnet_id": sub.id, "ip_address": "10.91.0.51"}]},
        "update_port:allowed_address_pairs": {"allowed_address_pairs": [{"ip_address": "0.0.0.0/0"}]},
        "update_port:port_security_enabled": {"port_security_enabled": False},
        "update_port:device_owner": {"device_owner": "network:dhcp"},
        "update_port:mac_address": {"mac_address": "fa:16:3e:01:02:04"},
    }
    for rule, change in refused_updates.items():
        resp = conn.network.put(f"/ports/{port.id}", json={"port": change}, raise_exc=False)
        status, kind, message = _error(resp)
        assert (status, kind) == (403, "PolicyNotAuthorized") and rule in message, (change, resp.text)
    kept = conn.network.get_port(port.id)
    assert kept.fixed_ips == port.fixed_ips and kept.mac_address == port.mac_address
    assert kept.is_port_security_enabled and kept.allowed_address_pairs == [] and kept.device_owner == "compute:nova"
    renamed = conn.network.update_port(port, name="mine")  # the port is still the tenant's to name
    assert renamed.name == "mine"
    conn.network.delete_port(port)


def test_the_network_owner_and_an_admin_may_set_them(cloud, admin, demo, shared):
    creds, conn = demo
    net, sub = shared
    chosen = admin.network.create_port(network_id=net.id, project_id=creds.project_id,
                                       fixed_ips=[{"subnet_id": sub.id, "ip_address": "10.91.0.60"}],
                                       mac_address="fa:16:3e:01:02:05")
    assert chosen.project_id == creds.project_id and chosen.fixed_ips[0]["ip_address"] == "10.91.0.60"
    own = conn.network.create_network(name=_name())
    conn.network.create_subnet(network_id=own.id, ip_version=4, cidr="10.92.0.0/24")
    dhcp = conn.network.create_port(network_id=own.id, device_owner="network:dhcp",
                                    fixed_ips=[{"ip_address": "10.92.0.2"}], port_security_enabled=False)
    assert dhcp.device_owner == "network:dhcp" and not dhcp.is_port_security_enabled
    moved = conn.network.update_port(dhcp, fixed_ips=[{"ip_address": "10.92.0.3"}])
    assert moved.fixed_ips[0]["ip_address"] == "10.92.0.3"
    mac = conn.network.put(f"/ports/{dhcp.id}", json={"port": {"mac_address": "fa:16:3e:01:02:06"}}, raise_exc=False)
    assert _error(mac)[:2] == (403, "PolicyNotAuthorized")  # an existing port's MAC: admins only
    for port in (chosen, dhcp):
        admin.network.delete_port(port.id)
    conn.network.delete_network(own)


def test_every_port_a_tenant_makes_counts_against_its_quota(cloud, admin):
    creds = cloud.new_user()
    conn = cloud.connection(creds)
    admin.network.put(f"/quotas/{creds.project_id}", json={"quota": {"port": 2}})
    net = conn.network.create_network(name=_name())
    made = [conn.network.create_port(network_id=net.id, device_owner=owner)
            for owner in ("network:dhcp", "network:router_interface_distributed")]
    for owner in ("network:dhcp", "compute:nova"):
        over = conn.network.post("/ports", json={"port": {"network_id": net.id, "device_owner": owner}},
                                 raise_exc=False)
        assert _error(over)[:2] == (409, "OverQuota"), owner
    details = conn.network.get(f"/quotas/{creds.project_id}/details.json").json()["quota"]
    assert details["port"]["used"] == 2
    for port in made:
        conn.network.delete_port(port)
    conn.network.delete_network(net)


def test_values_of_the_wrong_type_are_refused_not_stored(cloud, demo):
    _, conn = demo
    net = conn.network.create_network(name=_name())
    sub = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.93.0.0/24")
    group = conn.network.create_security_group(name=_name())
    rule = {"security_group_id": group.id, "direction": "ingress"}
    cases = [
        ("/security-group-rules", {"security_group_rule": {**rule, "remote_ip_prefix": 42}}),
        ("/security-group-rules", {"security_group_rule": {**rule, "remote_ip_prefix": ["10.0.0.0/8"]}}),
        ("/security-group-rules", {"security_group_rule": {**rule, "ethertype": "IPv6",
                                                           "remote_ip_prefix": "10.0.0.0/8"}}),
        ("/security-group-rules", {"security_group_rule": {**rule, "remote_group_id": 42}}),
        ("/security-group-rules", {"security_group_rule": {**rule, "security_group_id": 42}}),
        ("/security-group-rules", {"security_group_rule": {**rule, "protocol": "tcp", "port_range_min": 22.5}}),
        ("/subnets", {"subnet": {"network_id": net.id, "ip_version": 4, "cidr": "10.94.0.0/24",
                                 "dns_nameservers": [42]}}),
        ("/subnets", {"subnet": {"network_id": net.id, "ip_version": 4, "cidr": "10.94.0.0/24",
                                 "host_routes": [{"destination": 42, "nexthop": "10.94.0.1"}]}}),
        ("/subnets", {"subnet": {"network_id": net.id, "ip_version": 4, "cidr": "10.94.0.0/24",
                                 "allocation_pools": [{"start": 167640586, "end": "10.94.0.20"}]}}),
        ("/subnets", {"subnet": {"network_id": 42, "ip_version": 4, "cidr": "10.94.0.0/24"}}),
        ("/ports", {"port": {"network_id": net.id, "fixed_ips": [{"subnet_id": sub.id, "ip_address": 167641354}]}}),
        ("/ports", {"port": {"network_id": net.id, "allowed_address_pairs": [{"ip_address": 42}]}}),
        ("/ports", {"port": {"network_id": net.id, "security_groups": [42]}}),
        ("/ports", {"port": {"network_id": net.id, "security_groups": [{"id": group.id}]}}),
        ("/ports", {"port": {"network_id": net.id, "extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": {}}]}}),
        ("/ports", {"port": {"network_id": 42}}),
        ("/floatingips", {"floatingip": {"floating_network_id": 42}}),
    ]
    for path, body in cases:
        resp = conn.network.post(path, json=body, raise_exc=False)
        assert resp.status_code == 400 and "NeutronError" in resp.json(), (path, body, resp.text)
    assert [r.id for r in conn.network.security_group_rules(security_group_id=group.id, direction="ingress")] == []
    assert [s.id for s in conn.network.subnets(network_id=net.id)] == [sub.id]
    assert list(conn.network.ports(network_id=net.id)) == []
    port = conn.network.create_port(network_id=net.id)
    for change in ({"allowed_address_pairs": [{"ip_address": 42}]}, {"security_groups": [42]},
                   {"fixed_ips": [{"ip_address": 167641354}]}):
        resp = conn.network.put(f"/ports/{port.id}", json={"port": change}, raise_exc=False)
        assert resp.status_code == 400, (change, resp.text)
    assert conn.network.get_port(port.id).fixed_ips == port.fixed_ips
    conn.network.delete_port(port)
    conn.network.delete_security_group(group)
    conn.network.delete_network(net)


def test_a_port_cannot_join_another_projects_router(cloud, demo):
    _, owner = demo
    router = owner.network.create_router(name=_name())
    stranger = cloud.connection(cloud.new_user())
    net = stranger.network.create_network(name=_name())
    stranger.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.95.0.0/24")
    for device_owner in ("network:router_interface", "compute:nova"):
        resp = stranger.network.post("/ports", json={"port": {"network_id": net.id, "device_id": router.id,
                                                              "device_owner": device_owner}}, raise_exc=False)
        assert _error(resp)[:2] == (400, "InvalidInput") and router.id in _error(resp)[2], resp.text
    port = stranger.network.create_port(network_id=net.id)
    resp = stranger.network.put(f"/ports/{port.id}", json={"port": {"device_id": router.id,
                                                                    "device_owner": "network:router_interface"}},
                                raise_exc=False)
    assert _error(resp)[:2] == (400, "InvalidInput")
    assert owner.network.get(f"/routers/{router.id}").json()["router"]["id"] == router.id
    assert [p.id for p in owner.network.ports(device_id=router.id)] == []
    mine = stranger.network.create_router(name=_name())  # the caller's own router is fine
    joined = stranger.network.update_port(port, device_id=mine.id, device_owner="network:router_interface")
    assert joined.device_id == mine.id
    stranger.network.update_port(port, device_id="", device_owner="")
    stranger.network.delete_port(port)
    stranger.network.delete_router(mine)
    stranger.network.delete_network(net)
    owner.network.delete_router(router)


def test_an_admin_attribute_sent_at_its_default_is_not_set(cloud, demo):
    """Horizon sends ``"shared": false`` when a member creates a network: Neutron takes it, since an attribute
    at its default is not set; ``true`` stays the admin's."""
    _, conn = demo
    net = conn.network.create_network(name=_name(), is_shared=False, is_router_external=False)
    assert net.is_shared is False and net.is_router_external is False
    conn.network.delete_network(net)
    resp = conn.network.post("/networks", json={"network": {"name": _name(), "shared": True}})
    assert _error(resp)[0] == 403 and "create_network:shared" in _error(resp)[2]
