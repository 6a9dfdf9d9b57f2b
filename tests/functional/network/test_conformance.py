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


def test_routers_are_centralized_and_say_so_to_admins_only(cloud, admin, demo):
    _, conn = demo
    router = conn.network.post("/routers", json={"router": {"name": _name()}}).json()["router"]
    assert "distributed" not in router and "ha" not in router
    seen = admin.network.get(f"/routers/{router['id']}").json()["router"]
    assert seen["distributed"] is False and seen["ha"] is False
    for flag in ("distributed", "ha"):
        refused = conn.network.post("/routers", json={"router": {"name": _name(), flag: True}}, raise_exc=False)
        assert _error(refused)[:2] == (403, "PolicyNotAuthorized"), flag
        unsupported = admin.network.post("/routers", json={"router": {"name": _name(), flag: True}},
                                         raise_exc=False)
        assert unsupported.status_code == 400, flag
        update = admin.network.put(f"/routers/{router['id']}", json={"router": {flag: True}}, raise_exc=False)
        assert update.status_code == 400, flag
    central = admin.network.post("/routers", json={"router": {"name": _name(), "distributed": False}})
    assert central.status_code == 201 and central.json()["router"]["distributed"] is False
    admin.network.delete(f"/routers/{central.json()['router']['id']}")
    conn.network.delete(f"/routers/{router['id']}")


def test_extra_routes_are_added_and_removed_atomically(cloud, demo):
    _, conn = demo
    net = conn.network.create_network(name=_name())
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.64.0.0/24")
    router = conn.network.create_router(name=_name())
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    one = {"destination": "10.65.0.0/24", "nexthop": "10.64.0.10"}
    two = {"destination": "10.66.0.0/24", "nexthop": "10.64.0.11"}
    added = conn.network.put(f"/routers/{router.id}/add_extraroutes", json={"router": {"routes": [one, two]}})
    assert added.status_code == 200
    assert sorted(added.json()["router"]["routes"], key=str) == sorted([one, two], key=str)
    again = conn.network.put(f"/routers/{router.id}/add_extraroutes", json={"router": {"routes": [one]}})
    assert len(again.json()["router"]["routes"]) == 2
    far = conn.network.put(f"/routers/{router.id}/add_extraroutes", json={"router": {"routes": [
        {"destination": "10.67.0.0/24", "nexthop": "192.0.2.1"}]}}, raise_exc=False)
    assert _error(far)[:2] == (400, "InvalidRoutes")
    removed = conn.network.put(f"/routers/{router.id}/remove_extraroutes", json={"router": {"routes": [one]}})
    assert removed.json()["router"]["routes"] == [two]
    bad = conn.network.put(f"/routers/{router.id}/remove_extraroutes", json={"router": {"routes": ["x"]}},
                           raise_exc=False)
    assert bad.status_code == 400
    assert conn.network.get_router(router.id).routes == [two]
    conn.network.put(f"/routers/{router.id}/remove_extraroutes", json={"router": {"routes": [two]}})
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    conn.network.delete_network(net)


def test_availability_zones_and_service_providers(cloud, demo):
    _, conn = demo
    aliases = {e.alias for e in conn.network.extensions()}
    assert {"availability_zone", "network_availability_zone", "router_availability_zone", "service-type",
            "extraroute-atomic"} <= aliases
    assert "dvr" not in aliases and "l3-ha" not in aliases  # not built: Tempest skips what needs them
    zones = conn.network.get("/availability_zones").json()["availability_zones"]
    assert sorted((z["name"], z["resource"], z["state"]) for z in zones) == [
        ("nova", "network", "available"), ("nova", "router", "available")]
    routers_only = conn.network.get("/availability_zones?resource=router").json()["availability_zones"]
    assert [z["resource"] for z in routers_only] == ["router"]
    assert [z.name for z in conn.network.availability_zones()] == ["nova", "nova"]
    assert conn.network.get("/service-providers").json() == {"service_providers": []}


def test_metering_labels_and_rules_are_the_admins(cloud, admin, demo):
    _, conn = demo
    assert "metering" in {e.alias for e in admin.network.extensions()}
    label = admin.network.create_metering_label(name=_name(), description="web traffic")
    assert label.name.startswith("t-") and label.description == "web traffic" and label.is_shared is False
    rule = admin.network.create_metering_label_rule(metering_label_id=label.id, direction="ingress",
                                                    remote_ip_prefix="10.70.0.0/24")
    assert rule.metering_label_id == label.id and rule.is_excluded is False
    filtered = admin.network.create_metering_label_rule(metering_label_id=label.id, direction="egress",
                                                        source_ip_prefix="10.71.0.0/24",
                                                        destination_ip_prefix="10.72.0.0/24")
    assert (filtered.source_ip_prefix, filtered.destination_ip_prefix) == ("10.71.0.0/24", "10.72.0.0/24")
    assert filtered.remote_ip_prefix is None
    assert {r.id for r in admin.network.metering_label_rules(metering_label_id=label.id)} == {rule.id, filtered.id}
    assert [x.id for x in admin.network.metering_labels(id=label.id)] == [label.id]
    assert admin.network.get_metering_label(label.id).name == label.name
    errors = [
        ({"remote_ip_prefix": "10.70.0.128/25"}, 409, "MeteringLabelRuleOverlaps"),
        ({"remote_ip_prefix": "10.73.0.0/24", "source_ip_prefix": "10.74.0.0/24"}, 400, "BadRequest"),
        ({}, 400, "BadRequest"),
        ({"remote_ip_prefix": "not-a-cidr"}, 400, "InvalidInput"),
        ({"remote_ip_prefix": "10.75.0.0/24", "direction": "sideways"}, 400, "InvalidInput"),
    ]
    for extra, status, kind in errors:
        resp = admin.network.post("/metering/metering-label-rules", json={"metering_label_rule": {
            "metering_label_id": label.id, "direction": "ingress", **extra}}, raise_exc=False)
        assert _error(resp)[:2] == (status, kind), extra
    # Neutron's policy: members see none, may make none, and are told a label does not exist.
    assert conn.network.get("/metering/metering-labels").json() == {"metering_labels": []}
    assert conn.network.get("/metering/metering-label-rules").json() == {"metering_label_rules": []}
    assert conn.network.get(f"/metering/metering-labels/{label.id}", raise_exc=False).status_code == 404
    assert conn.network.delete(f"/metering/metering-labels/{label.id}", raise_exc=False).status_code == 404
    made = conn.network.post("/metering/metering-labels", json={"metering_label": {"name": "x"}}, raise_exc=False)
    assert _error(made)[:2] == (403, "PolicyNotAuthorized")
    admin.network.delete_metering_label_rule(rule)
    assert admin.network.get(f"/metering/metering-label-rules/{rule.id}", raise_exc=False).status_code == 404
    admin.network.delete_metering_label(label)  # its other rule with it
    assert admin.network.get(f"/metering/metering-label-rules/{filtered.id}", raise_exc=False).status_code == 404


def test_agents_are_hidden_from_non_admins_as_neutron_does(cloud, admin, demo):
    _, conn = demo
    assert conn.network.get("/agents").json() == {"agents": []}
    some = "0" * 32
    assert _error(conn.network.get(f"/agents/{some}", raise_exc=False))[:2] == (404, "AgentNotFound")
    assert admin.network.get(f"/agents/{some}", raise_exc=False).status_code == 404
    assert admin.network.get("/agents").status_code == 200


def test_address_scopes_and_subnet_pools_in_them(cloud, admin, demo):
    _, conn = demo
    assert "address-scope" in {e.alias for e in conn.network.extensions()}
    scope = conn.network.create_address_scope(name=_name(), ip_version=4)
    assert scope.ip_version == 4 and scope.is_shared is False
    pool = conn.network.create_subnet_pool(name=_name(), prefixes=["10.80.0.0/16"], default_prefix_length=24,
                                           address_scope_id=scope.id)
    assert pool.address_scope_id == scope.id
    overlap = conn.network.post("/subnetpools", json={"subnetpool": {
        "name": _name(), "prefixes": ["10.80.128.0/17"], "address_scope_id": scope.id}}, raise_exc=False)
    assert _error(overlap)[:2] == (400, "IllegalSubnetPoolAssociationToAddressScope")
    v6 = conn.network.post("/subnetpools", json={"subnetpool": {
        "name": _name(), "prefixes": ["fd00:80::/48"], "address_scope_id": scope.id}}, raise_exc=False)
    assert _error(v6)[:2] == (400, "IllegalSubnetPoolAssociationToAddressScope")
    net = conn.network.create_network(name=_name())
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, subnet_pool_id=pool.id)
    seen = conn.network.get(f"/networks/{net.id}").json()["network"]
    assert seen["ipv4_address_scope"] == scope.id and seen["ipv6_address_scope"] is None
    in_use = conn.network.delete(f"/address-scopes/{scope.id}", raise_exc=False)
    assert _error(in_use)[:2] == (409, "AddressScopeInUse")
    # Shared only by an admin, and then for good; others see it once shared.
    other_creds = cloud.new_user()
    other = cloud.connection(other_creds)
    assert other.network.get(f"/address-scopes/{scope.id}", raise_exc=False).status_code == 404
    refused = conn.network.put(f"/address-scopes/{scope.id}", json={"address_scope": {"shared": True}},
                               raise_exc=False)
    assert _error(refused)[:2] == (403, "PolicyNotAuthorized")
    admin.network.update_address_scope(scope.id, shared=True)
    assert other.network.get_address_scope(scope.id).is_shared is True
    unshare = admin.network.put(f"/address-scopes/{scope.id}", json={"address_scope": {"shared": False}},
                                raise_exc=False)
    assert _error(unshare)[:2] == (400, "AddressScopeUpdateError")
    assert conn.network.update_address_scope(scope.id, name="renamed").name == "renamed"
    bad = conn.network.post("/address-scopes", json={"address_scope": {"name": "x", "ip_version": 5}},
                            raise_exc=False)
    assert bad.status_code == 400
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)
    conn.network.update_subnet_pool(pool.id, address_scope_id=None)
    assert conn.network.get_subnet_pool(pool.id).address_scope_id is None
    conn.network.delete_address_scope(scope.id)
    conn.network.delete_subnet_pool(pool.id)


def test_rbac_policies_share_a_network_with_one_project_or_all(cloud, admin, demo):
    _, owner = demo
    other_creds = cloud.new_user()
    other = cloud.connection(other_creds)
    other_project = other.current_project_id
    assert "rbac-policies" in {e.alias for e in owner.network.extensions()}
    net = owner.network.create_network(name=_name())
    subnet = owner.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.90.0.0/24")
    assert other.network.get(f"/networks/{net.id}", raise_exc=False).status_code == 404
    grant = owner.network.create_rbac_policy(object_type="network", object_id=net.id, action="access_as_shared",
                                             target_project_id=other_project)
    assert grant.target_project_id == other_project and grant.project_id == net.project_id
    seen = other.network.get(f"/networks/{net.id}").json()["network"]
    assert seen["shared"] is True  # shared with the caller's project
    assert owner.network.get(f"/networks/{net.id}").json()["network"]["shared"] is False
    assert other.network.get(f"/subnets/{subnet.id}").status_code == 200
    port = other.network.create_port(network_id=net.id)
    duplicate = owner.network.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net.id, "action": "access_as_shared",
        "target_tenant": other_project}}, raise_exc=False)
    assert _error(duplicate)[:2] == (409, "DuplicateRbacPolicy")
    in_use = owner.network.delete(f"/rbac-policies/{grant.id}", raise_exc=False)
    assert _error(in_use)[:2] == (409, "RbacPolicyInUse")
    # The target neither sees nor changes the owner's policy; only an admin grants to everyone.
    assert other.network.get(f"/rbac-policies/{grant.id}", raise_exc=False).status_code == 404
    everyone = owner.network.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net.id, "action": "access_as_shared", "target_tenant": "*"}},
        raise_exc=False)
    assert _error(everyone)[:2] == (403, "PolicyNotAuthorized")
    foreign = other.network.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net.id, "action": "access_as_shared",
        "target_tenant": uuid.uuid4().hex}}, raise_exc=False)
    assert foreign.status_code in (403, 404)
    other.network.delete_port(port)
    owner.network.delete_rbac_policy(grant)
    assert other.network.get(f"/networks/{net.id}", raise_exc=False).status_code == 404
    # shared=True is the grant to everyone, and deleting that grant unshares the network.
    admin.network.update_network(net.id, is_shared=True)
    wildcard = [p for p in admin.network.rbac_policies(object_id=net.id)]
    assert [(p.action, p.target_project_id) for p in wildcard] == [("access_as_shared", "*")]
    assert other.network.get(f"/networks/{net.id}").json()["network"]["shared"] is True
    admin.network.delete_rbac_policy(wildcard[0])
    assert admin.network.get_network(net.id).is_shared is False
    # External use for one project: it may put its router's gateway there.
    owner.network.delete_subnet(subnet)
    ext = admin.network.create_network(name=_name())
    admin.network.create_subnet(network_id=ext.id, ip_version=4, cidr="198.51.100.0/24", is_dhcp_enabled=False)
    refused = other.network.post("/routers", json={"router": {"name": _name(), "external_gateway_info": {
        "network_id": ext.id}}}, raise_exc=False)
    assert refused.status_code in (400, 404)
    admin.network.create_rbac_policy(object_type="network", object_id=ext.id, action="access_as_external",
                                     target_project_id=other_project)
    router = other.network.create_router(name=_name(), external_gateway_info={"network_id": ext.id})
    assert router.external_gateway_info["network_id"] == ext.id
    other.network.delete_router(router)
    admin.network.delete_network(ext)  # its policies with it
    assert list(admin.network.rbac_policies(object_id=ext.id)) == []
    owner.network.delete_network(net)


def test_an_external_networks_subnets_stay_hidden_unless_it_is_shared(cloud, admin, demo):
    _, conn = demo
    public = admin.network.create_network(name=_name(), is_router_external=True)
    subnet = admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="10.63.0.0/24", enable_dhcp=False)
    # The tenant sees the network (it may use it as a gateway) but not its subnets, as Neutron.
    assert conn.network.get(f"/networks/{public.id}", raise_exc=False).status_code == 200
    assert subnet.id not in [s.id for s in conn.network.subnets()]
    assert conn.network.get(f"/subnets/{subnet.id}", raise_exc=False).status_code == 404
    admin.network.update_network(public, is_shared=True)
    assert subnet.id in [s.id for s in conn.network.subnets()]
    admin.network.delete_subnet(subnet)
    admin.network.delete_network(public)


def test_default_is_the_default_groups_name_alone(cloud, demo):
    _, conn = demo
    group = conn.network.create_security_group(name=_name())
    renamed = conn.network.put(f"/security-groups/{group.id}", json={"security_group": {"name": "default"}},
                               raise_exc=False)
    assert _error(renamed)[:2] == (409, "SecurityGroupDefaultAlreadyExists")
    assert conn.network.get_security_group(group.id).name == group.name
    conn.network.delete_security_group(group)


def test_self_configured_ipv6_addresses_go_with_their_subnet(cloud, demo):
    _, conn = demo
    for mode in ("slaac", "dhcpv6-stateless"):
        net = conn.network.create_network(name=_name())
        subnet = conn.network.create_subnet(network_id=net.id, ip_version=6, cidr="2001:db8:61::/64",
                                            ipv6_ra_mode=mode, ipv6_address_mode=mode)
        port = conn.network.create_port(network_id=net.id)
        assert [ip["subnet_id"] for ip in port.fixed_ips] == [subnet.id]
        conn.network.delete_subnet(subnet)  # the port keeps going, without its address
        assert conn.network.get_port(port.id).fixed_ips == []
        busy = conn.network.delete(f"/networks/{net.id}", raise_exc=False)
        assert _error(busy)[:2] == (409, "NetworkInUse"), mode
        conn.network.delete_port(port)
        conn.network.delete_network(net)
    # A fixed-address (dhcpv6-stateful) allocation still holds its subnet.
    net = conn.network.create_network(name=_name())
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=6, cidr="2001:db8:62::/64",
                                        ipv6_ra_mode="dhcpv6-stateful", ipv6_address_mode="dhcpv6-stateful")
    port = conn.network.create_port(network_id=net.id)
    assert _error(conn.network.delete(f"/subnets/{subnet.id}", raise_exc=False))[:2] == (409, "SubnetInUse")
    conn.network.delete_port(port)
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)


def test_an_external_network_goes_with_its_unassociated_floating_ips(cloud, admin, demo):
    _, conn = demo
    external = admin.network.create_network(name=_name(), is_router_external=True)
    admin.network.create_subnet(network_id=external.id, ip_version=4, cidr="10.63.0.0/24", is_dhcp_enabled=False)
    loose = admin.network.create_ip(floating_network_id=external.id)
    admin.network.delete_network(external)
    assert admin.network.get(f"/floatingips/{loose.id}", raise_exc=False).status_code == 404

    # One associated with a port holds the network, as that port would.
    external = admin.network.create_network(name=_name(), is_router_external=True)
    admin.network.create_subnet(network_id=external.id, ip_version=4, cidr="10.64.0.0/24", is_dhcp_enabled=False)
    inner = conn.network.create_network(name=_name())
    inner_subnet = conn.network.create_subnet(network_id=inner.id, ip_version=4, cidr="10.65.0.0/24")
    router = admin.network.create_router(name=_name(), project_id=inner.project_id,
                                         external_gateway_info={"network_id": external.id})
    admin.network.add_interface_to_router(router, subnet_id=inner_subnet.id)
    port = conn.network.create_port(network_id=inner.id)
    bound = admin.network.create_ip(floating_network_id=external.id, port_id=port.id, project_id=inner.project_id)
    busy = admin.network.delete(f"/networks/{external.id}", raise_exc=False)
    assert _error(busy)[:2] == (409, "NetworkInUse")
    admin.network.delete_ip(bound)
    conn.network.delete_port(port)
    admin.network.remove_interface_from_router(router, subnet_id=inner_subnet.id)
    admin.network.delete_router(router)
    conn.network.delete_subnet(inner_subnet)
    conn.network.delete_network(inner)
    admin.network.delete_network(external)
