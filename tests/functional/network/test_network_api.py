"""The Networking v2.0 API through openstacksdk, the ``openstack`` CLI and raw keystoneauth requests."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

import pytest
from openstack import exceptions as sdk_exc


def _error(resp: Any) -> tuple[int, str, str]:
    body = resp.json()["NeutronError"]
    return resp.status_code, body["type"], body["message"]


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def test_discovery_lists_the_implemented_extensions(cloud, admin):
    aliases = {e.alias for e in admin.network.extensions()}
    for alias in ("agent", "allowed-address-pairs", "binding", "external-net", "extra_dhcp_opt",
                  "ip-substring-filtering", "network-ip-availability", "port-security", "project-id", "provider",
                  "quotas", "router", "security-group", "standard-attr-description", "standard-attr-revisions",
                  "standard-attr-timestamp", "standard-attr-tag", "subnet_allocation", "subnetpool", "extraroute",
                  "ext-gw-mode"):
        assert alias in aliases
    resources = admin.network.get("/").json()["resources"]
    assert {"networks", "ports", "routers"} <= {r["collection"] for r in resources}


def test_tenant_network_gets_a_vxlan_segment_and_overlay_mtu(cloud, admin, demo):
    _, conn = demo
    net = conn.network.create_network(name=_name())
    assert net.mtu == 1450 and net.status == "ACTIVE" and net.is_port_security_enabled
    assert net.provider_network_type is None  # provider details are for admins
    seen = admin.network.get_network(net.id)
    assert seen.provider_network_type == "vxlan" and 100 <= seen.provider_segmentation_id <= 199
    other = conn.network.create_network(name=_name())
    assert admin.network.get_network(other.id).provider_segmentation_id != seen.provider_segmentation_id
    for n in (net, other):
        conn.network.delete_network(n)


def test_provider_attributes_are_admin_only_and_validated(cloud, admin, demo):
    _, conn = demo
    resp = conn.network.post("/networks", json={"network": {"name": "x", "provider:network_type": "flat",
                                                            "provider:physical_network": "physnet1"}},
                             raise_exc=False)
    assert resp.status_code == 403 and resp.json()["NeutronError"]["type"] == "PolicyNotAuthorized"
    flat = admin.network.create_network(name=_name(), provider_network_type="flat",
                                        provider_physical_network="physnet1")
    assert flat.mtu == 1500 and flat.provider_segmentation_id is None
    again = admin.network.post("/networks", json={"network": {"provider:network_type": "flat",
                                                              "provider:physical_network": "physnet1"}},
                               raise_exc=False)
    assert _error(again)[:2] == (409, "FlatNetworkInUse")
    bad = admin.network.post("/networks", json={"network": {"provider:network_type": "flat",
                                                            "provider:physical_network": "nowhere"}},
                             raise_exc=False)
    status, kind, message = _error(bad)
    assert (status, kind) == (400, "InvalidInput") and "nowhere" in message
    vlan = admin.network.create_network(name=_name(), provider_network_type="vlan",
                                        provider_physical_network="physnet1", provider_segmentation_id=123)
    assert vlan.provider_segmentation_id == 123
    too_big = admin.network.post("/networks", json={"network": {"mtu": 9000}}, raise_exc=False)
    assert too_big.status_code == 400 and "too big" in _error(too_big)[2]
    for n in (flat, vlan):
        admin.network.delete_network(n)


def test_shared_and_external_networks_are_visible_to_other_projects(cloud, admin, demo):
    _, conn = demo
    shared = admin.network.create_network(name=_name(), is_shared=True)
    private = admin.network.create_network(name=_name())
    external = admin.network.create_network(name=_name(), is_router_external=True)
    visible = {n.id for n in conn.network.networks()}
    assert shared.id in visible and external.id in visible and private.id not in visible
    with pytest.raises(sdk_exc.ResourceNotFound):
        conn.network.get_network(private.id)
    resp = conn.network.delete(f"/networks/{shared.id}", raise_exc=False)
    assert resp.status_code == 403
    for n in (shared, private, external):
        admin.network.delete_network(n)


def test_subnet_pools_gateway_dns_routes_and_validation(cloud, demo):
    _, conn = demo
    net = conn.network.create_network(name=_name())
    sub = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.10.0.0/24", name=_name(),
                                     allocation_pools=[{"start": "10.10.0.10", "end": "10.10.0.20"}],
                                     dns_nameservers=["192.0.2.53"],
                                     host_routes=[{"destination": "198.51.100.0/24", "nexthop": "10.10.0.254"}])
    assert sub.gateway_ip == "10.10.0.1" and sub.is_dhcp_enabled
    assert sub.allocation_pools == [{"start": "10.10.0.10", "end": "10.10.0.20"}]
    assert sub.dns_nameservers == ["192.0.2.53"]
    assert net.id in [s.network_id for s in conn.network.subnets(network_id=net.id)]
    assert conn.network.get_network(net.id).subnet_ids == [sub.id]
    cases = [
        ({"cidr": "10.10.0.0/25"}, 400, "overlaps"),
        ({"cidr": "10.20.0.5/24"}, 400, "10.20.0.0/24"),
        ({"cidr": "10.30.0.0/24", "gateway_ip": "10.31.0.1"}, 400, "Gateway"),
        ({"cidr": "10.40.0.0/24", "allocation_pools": [{"start": "10.40.0.1", "end": "10.40.0.9"}]}, 409,
         "conflicts"),
        ({"cidr": "10.50.0.0/24", "allocation_pools": [{"start": "10.50.1.1", "end": "10.50.1.9"}]}, 400,
         "beyond"),
        ({"cidr": "fd00::/64", "ip_version": 4}, 400, "does not match"),
        ({"cidr": "10.60.0.0/24", "ipv6_address_mode": "slaac"}, 400, "only valid for IPv6"),
        ({"cidr": "not-a-cidr"}, 400, "not a valid IP subnet"),
    ]
    for extra, status, fragment in cases:
        body = {"subnet": {"network_id": net.id, "ip_version": 4, **extra}}
        resp = conn.network.post("/subnets", json=body, raise_exc=False)
        code, _, message = _error(resp)
        assert code == status and fragment in message, (extra, code, message)
    v6 = conn.network.create_subnet(network_id=net.id, ip_version=6, cidr="fd00:10::/64",
                                    ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    port = conn.network.create_port(network_id=net.id)
    v6_ip = next(ip["ip_address"] for ip in port.fixed_ips if ip["subnet_id"] == v6.id)
    octets = bytearray(int(x, 16) for x in port.mac_address.split(":"))
    octets[0] ^= 0x02  # EUI-64: flip the universal/local bit and put ff:fe in the middle
    interface_id = bytes(octets[:3]) + b"\xff\xfe" + bytes(octets[3:])
    assert ipaddress.ip_address(v6_ip).packed == ipaddress.ip_address("fd00:10::").packed[:8] + interface_id
    updated = conn.network.update_subnet(sub, dns_nameservers=[], name="renamed")
    assert updated.dns_nameservers == [] and updated.name == "renamed"
    conn.network.delete_port(port)
    conn.network.delete_network(net)


def test_ports_addresses_macs_and_ipam_errors(cloud, demo):
    _, conn = demo
    net = conn.network.create_network(name=_name())
    sub = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="192.168.5.0/29")  # 5 usable
    first = conn.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": "192.168.5.3"}],
                                     mac_address="fa:16:3e:aa:bb:cc")
    assert first.fixed_ips == [{"subnet_id": sub.id, "ip_address": "192.168.5.3"}]
    taken = conn.network.post("/ports", json={"port": {"network_id": net.id,
                                                       "fixed_ips": [{"ip_address": "192.168.5.3"}]}},
                              raise_exc=False)
    assert _error(taken)[:2] == (409, "IpAddressAlreadyAllocated")
    dup_mac = conn.network.post("/ports", json={"port": {"network_id": net.id, "mac_address": "fa:16:3e:aa:bb:cc"}},
                                raise_exc=False)
    assert _error(dup_mac)[:2] == (409, "MacAddressInUse")
    outside = conn.network.post("/ports", json={"port": {"network_id": net.id,
                                                         "fixed_ips": [{"ip_address": "10.9.9.9"}]}},
                                raise_exc=False)
    assert _error(outside)[0] == 400
    ports = [conn.network.create_port(network_id=net.id) for _ in range(4)]
    addresses = {p.fixed_ips[0]["ip_address"] for p in [first, *ports]}
    assert addresses == {f"192.168.5.{n}" for n in range(2, 7)}
    full = conn.network.post("/ports", json={"port": {"network_id": net.id}}, raise_exc=False)
    code, kind, message = _error(full)
    assert (code, kind) == (409, "IpAddressGenerationFailure") and net.id in message
    in_use = conn.network.delete(f"/subnets/{sub.id}", raise_exc=False)
    assert _error(in_use)[:2] == (409, "SubnetInUse")
    net_in_use = conn.network.delete(f"/networks/{net.id}", raise_exc=False)
    assert _error(net_in_use)[:2] == (409, "NetworkInUse")
    moved = conn.network.update_port(first, fixed_ips=[{"subnet_id": sub.id, "ip_address": "192.168.5.3"}],
                                     name="kept")
    assert moved.fixed_ips[0]["ip_address"] == "192.168.5.3"
    conn.network.delete_port(ports[0])
    again = conn.network.create_port(network_id=net.id)
    assert again.fixed_ips[0]["ip_address"] == ports[0].fixed_ips[0]["ip_address"]  # released on delete
    for p in [first, *ports[1:], again]:
        conn.network.delete_port(p)
    conn.network.delete_network(net)


def test_port_security_groups_pairs_and_binding(cloud, admin, demo):
    creds, conn = demo
    net = conn.network.create_network(name=_name())
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.70.0.0/24")
    port = conn.network.create_port(network_id=net.id,
                                    allowed_address_pairs=[{"ip_address": "10.70.0.200/32"}],
                                    extra_dhcp_opts=[{"opt_name": "domain-search", "opt_value": "example.org"}])
    default = next(g for g in conn.network.security_groups() if g.name == "default")
    assert port.security_group_ids == [default.id]
    assert port.allowed_address_pairs == [{"ip_address": "10.70.0.200", "mac_address": port.mac_address}]
    assert port.extra_dhcp_opts[0]["opt_name"] == "domain-search"
    conflict = conn.network.put(f"/ports/{port.id}", json={"port": {"port_security_enabled": False}},
                                raise_exc=False)
    assert _error(conflict)[:2] == (409, "AddressPairAndPortSecurityRequired")
    open_port = conn.network.update_port(port, allowed_address_pairs=[], security_group_ids=[],
                                         port_security_enabled=False)
    assert open_port.security_group_ids == [] and not open_port.is_port_security_enabled
    forbidden = conn.network.put(f"/ports/{port.id}", json={"port": {"binding:host_id": "host-a"}},
                                 raise_exc=False)
    assert forbidden.status_code == 403
    bound = admin.network.update_port(port.id, binding_host_id="host-a")
    assert bound.binding_host_id == "host-a" and bound.binding_vif_type == "bridge"
    assert bound.binding_vif_details["bridge_name"] == "brq" + net.id[:11]
    assert bound.status == "DOWN"  # until the host's agent wires it
    conn.network.delete_port(port)
    conn.network.delete_network(net)


def test_security_group_rules(cloud, demo):
    _, conn = demo
    group = conn.network.create_security_group(name=_name(), description="web")
    assert {(r["direction"], r["ethertype"]) for r in group.security_group_rules} == {("egress", "IPv4"),
                                                                                     ("egress", "IPv6")}
    default = next(g for g in conn.network.security_groups() if g.name == "default")
    ingress = [r for r in default.security_group_rules if r["direction"] == "ingress"]
    assert len(ingress) == 2 and all(r["remote_group_id"] == default.id for r in ingress)
    ssh = conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                  protocol="tcp", port_range_min=22, port_range_max=22,
                                                  remote_ip_prefix="203.0.113.0/24")
    assert ssh.protocol == "tcp" and ssh.port_range_min == 22
    icmp = conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                   protocol="icmp", remote_group_id=default.id)
    assert icmp.remote_group_id == default.id
    errors = [
        ({"protocol": "tcp", "port_range_min": 30, "port_range_max": 20}, "SecurityGroupInvalidPortRange"),
        ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "203.0.113.0/24"},
         "SecurityGroupRuleExists"),
        ({"protocol": "bogus"}, "SecurityGroupRuleInvalidProtocol"),
        ({"remote_ip_prefix": "fd00::/64"}, "SecurityGroupRuleParameterConflict"),
        ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": default.id},
         "SecurityGroupRemoteGroupAndRemoteIpPrefix"),
        ({"protocol": "icmp", "port_range_min": 300}, "SecurityGroupInvalidIcmpValue"),
    ]
    for extra, kind in errors:
        body = {"security_group_rule": {"security_group_id": group.id, "direction": "ingress", **extra}}
        resp = conn.network.post("/security-group-rules", json=body, raise_exc=False)
        assert _error(resp)[1] == kind, extra
    rules = list(conn.network.security_group_rules(security_group_id=group.id, direction="ingress"))
    assert {r.id for r in rules} == {ssh.id, icmp.id}
    conn.network.delete_security_group_rule(ssh)
    no_default_delete = conn.network.delete(f"/security-groups/{default.id}", raise_exc=False)
    assert _error(no_default_delete)[:2] == (409, "SecurityGroupCannotRemoveDefault")
    conn.network.delete_security_group(group)


def test_routers_interfaces_routes_and_floating_ips(cloud, admin, demo):
    _, conn = demo
    public = admin.network.create_network(name=_name(), is_router_external=True, provider_network_type="flat",
                                          provider_physical_network="public")
    admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="172.24.4.0/24", enable_dhcp=False)
    net = conn.network.create_network(name=_name())
    sub = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.80.0.0/24")
    router = conn.network.create_router(name=_name(), external_gateway_info={"network_id": public.id})
    gateway = router.external_gateway_info
    assert gateway["network_id"] == public.id and gateway["enable_snat"] is True
    assert gateway["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    snat_off = conn.network.put(f"/routers/{router.id}", json={"router": {"external_gateway_info": {
        "network_id": public.id, "enable_snat": False}}}, raise_exc=False)
    assert snat_off.status_code == 200 and snat_off.json()["router"]["external_gateway_info"]["enable_snat"] is False
    added = conn.network.add_interface_to_router(router, subnet_id=sub.id)
    assert added["subnet_id"] == sub.id
    iface = conn.network.get_port(added["port_id"])
    assert iface.device_owner == "network:router_interface" and iface.fixed_ips[0]["ip_address"] == "10.80.0.1"
    twice = conn.network.put(f"/routers/{router.id}/add_router_interface", json={"subnet_id": sub.id},
                             raise_exc=False)
    assert twice.status_code == 400 and "already has a port" in _error(twice)[2]
    direct = conn.network.delete(f"/ports/{iface.id}", raise_exc=False)
    assert _error(direct)[:2] == (409, "L3PortInUse")
    routed = conn.network.update_router(router, routes=[{"destination": "198.51.100.0/24", "nexthop": "10.80.0.9"}])
    assert routed.routes == [{"destination": "198.51.100.0/24", "nexthop": "10.80.0.9"}]
    bad_route = conn.network.put(f"/routers/{router.id}", json={"router": {"routes": [
        {"destination": "198.51.100.0/24", "nexthop": "10.99.0.9"}]}}, raise_exc=False)
    assert _error(bad_route)[:2] == (400, "InvalidRoutes")
    vm_port = conn.network.create_port(network_id=net.id)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=vm_port.id)
    assert fip.floating_ip_address.startswith("172.24.4.") and fip.router_id == router.id
    assert fip.fixed_ip_address == vm_port.fixed_ips[0]["ip_address"]
    # fip-port-details: the associated port in brief.
    assert fip.port_details == {"name": vm_port.name, "network_id": net.id, "mac_address": vm_port.mac_address,
                                "admin_state_up": True, "status": vm_port.status, "device_id": vm_port.device_id,
                                "device_owner": vm_port.device_owner}
    second = conn.network.post("/floatingips", json={"floatingip": {"floating_network_id": public.id,
                                                                    "port_id": vm_port.id}}, raise_exc=False)
    assert _error(second)[:2] == (409, "FloatingIPPortAlreadyAssociated")
    not_external = conn.network.post("/floatingips", json={"floatingip": {"floating_network_id": net.id}},
                                     raise_exc=False)
    assert _error(not_external)[0] == 400
    in_use = conn.network.put(f"/routers/{router.id}/remove_router_interface", json={"subnet_id": sub.id},
                              raise_exc=False)
    assert _error(in_use)[:2] == (409, "RouterInterfaceInUseByFloatingIP")
    freed = conn.network.update_ip(fip, port_id=None)
    assert freed.port_id is None and freed.router_id is None and freed.port_details is None
    busy = conn.network.delete(f"/routers/{router.id}", raise_exc=False)
    assert _error(busy)[:2] == (409, "RouterInUse")
    conn.network.update_router(router, routes=[])
    conn.network.remove_interface_from_router(router, subnet_id=sub.id)
    conn.network.delete_ip(fip)
    conn.network.delete_router(router)
    conn.network.delete_port(vm_port)
    conn.network.delete_network(net)
    assert admin.network.get_network_ip_availability(public.id).used_ips == 0
    admin.network.delete_network(public)


def test_ip_availability_and_allocation_history(cloud, admin, demo):
    _, conn = demo
    net = conn.network.create_network(name=_name())
    sub = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.90.0.0/28")
    port = conn.network.create_port(network_id=net.id, device_id="vm-1")
    ip = port.fixed_ips[0]["ip_address"]
    availability = admin.network.get_network_ip_availability(net.id)
    assert availability.total_ips == 13 and availability.used_ips == 1
    assert availability.subnet_ip_availability[0]["subnet_id"] == sub.id
    denied = conn.network.get(f"/network-ip-availabilities/{net.id}", raise_exc=False)
    assert denied.status_code == 403
    conn.network.delete_port(port)
    history = admin.network.get(f"/ip-allocation-history?ip_address={ip}&subnet_id={sub.id}").json()
    entry = history["ip_allocations"][0]
    assert entry["port_id"] == port.id and entry["device_id"] == "vm-1" and entry["released_at"] is not None
    assert conn.network.get("/ip-allocation-history", raise_exc=False).status_code == 403
    conn.network.delete_network(net)


def test_quotas_through_the_cli_and_their_limit(cloud, admin, demo):
    creds, conn = demo
    cloud.openstack("quota", "set", "--networks", "2", creds.project_id, json_output=False)
    shown = admin.network.get(f"/quotas/{creds.project_id}").json()["quota"]
    assert shown["network"] == 2 and shown["port"] == 500
    existing = len(list(conn.network.networks(project_id=creds.project_id)))
    made = [conn.network.create_network(name=_name()) for _ in range(2 - existing)]
    over = conn.network.post("/networks", json={"network": {"name": "one-too-many"}}, raise_exc=False)
    code, kind, message = _error(over)
    assert (code, kind) == (409, "OverQuota") and "network" in message
    details = conn.network.get(f"/quotas/{creds.project_id}/details.json").json()["quota"]
    assert details["network"] == {"limit": 2, "used": 2, "reserved": 0}
    denied = conn.network.put(f"/quotas/{creds.project_id}", json={"quota": {"network": 50}}, raise_exc=False)
    assert denied.status_code == 403
    admin.network.delete(f"/quotas/{creds.project_id}")
    assert admin.network.get(f"/quotas/{creds.project_id}").json()["quota"]["network"] == 100
    for n in made:
        conn.network.delete_network(n)


def test_tags_revisions_if_match_pagination_fields_and_sorting(cloud, demo):
    _, conn = demo
    prefix = _name()
    nets = [conn.network.create_network(name=f"{prefix}-{i}") for i in range(5)]
    conn.network.set_tags(nets[0], ["red", "blue"])
    conn.network.put(f"/networks/{nets[1].id}/tags/red")
    assert conn.network.get(f"/networks/{nets[0].id}/tags/blue", raise_exc=False).status_code == 204
    assert conn.network.get(f"/networks/{nets[1].id}/tags/blue", raise_exc=False).status_code == 404
    assert {n.id for n in conn.network.networks(tags="red")} == {nets[0].id, nets[1].id}
    assert {n.id for n in conn.network.networks(tags="red,blue")} == {nets[0].id}
    assert nets[0].id not in {n.id for n in conn.network.networks(not_tags="blue", name=nets[0].name)}
    current = conn.network.get_network(nets[2].id)
    stale = conn.network.put(f"/networks/{nets[2].id}", json={"network": {"name": "x"}},
                             headers={"If-Match": f"revision_number={current.revision_number + 5}"}, raise_exc=False)
    assert _error(stale)[:2] == (412, "RevisionNumberConstraintFailed")
    fresh = conn.network.put(f"/networks/{nets[2].id}", json={"network": {"description": "y"}},
                             headers={"If-Match": f"revision_number={current.revision_number}"}, raise_exc=False)
    assert fresh.json()["network"]["revision_number"] == current.revision_number + 1
    page = conn.network.get(f"/networks?limit=2&sort_key=name&sort_dir=asc&fields=id&fields=name"
                            f"&name={prefix}-0&name={prefix}-1&name={prefix}-3&name={prefix}-4").json()
    assert [n["name"] for n in page["networks"]] == [f"{prefix}-0", f"{prefix}-1"]
    assert set(page["networks"][0]) == {"id", "name"}
    nxt = next(link["href"] for link in page["networks_links"] if link["rel"] == "next")
    second = conn.network.get(nxt[nxt.index("/networks"):]).json()
    assert [n["name"] for n in second["networks"]] == [f"{prefix}-3", f"{prefix}-4"]
    desc = [n.name for n in conn.network.networks(sort_key="name", sort_dir="desc") if n.name.startswith(prefix)]
    assert desc == sorted(desc, reverse=True)
    bad = conn.network.get("/networks?sort_key=nonsense", raise_exc=False)
    assert bad.status_code == 400
    for n in nets:
        conn.network.delete_network(n)


def test_cli_walkthrough_and_agent_list(cloud, demo):
    creds, _ = demo
    name = _name()
    net = cloud.openstack("network", "create", name, creds=creds)
    sub = cloud.openstack("subnet", "create", "--network", name, "--subnet-range", "10.100.0.0/24", name,
                          creds=creds)
    assert sub["cidr"] == "10.100.0.0/24"
    port = cloud.openstack("port", "create", "--network", name, "--fixed-ip", "subnet=" + name + ",ip-address="
                           "10.100.0.50", name, creds=creds)
    assert port["fixed_ips"][0]["ip_address"] == "10.100.0.50"
    found = cloud.openstack("port", "list", "--fixed-ip", "ip-substring=10.100.0.5", creds=creds)
    assert [p["ID"] for p in found] == [port["id"]]
    cloud.openstack("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "default",
                    creds=creds)
    router = cloud.openstack("router", "create", name, creds=creds)
    cloud.openstack("router", "add", "subnet", name, name, creds=creds, json_output=False)
    shown = cloud.openstack("router", "show", router["id"], creds=creds)
    assert shown["name"] == name
    cloud.openstack("router", "remove", "subnet", name, name, creds=creds, json_output=False)
    for args in (("router", "delete", name), ("port", "delete", name), ("network", "delete", net["id"])):
        cloud.openstack(*args, creds=creds, json_output=False)
    assert cloud.openstack("network", "agent", "list") == [] or isinstance(cloud.openstack("network", "agent",
                                                                                           "list"), list)
