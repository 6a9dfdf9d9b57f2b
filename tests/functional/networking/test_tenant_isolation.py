"""Compute's lookups in the network service stay inside the caller's project: security group names are
values (never query syntax) of the caller's own groups, another project's port never becomes a server's
interface however its device_id is set, and an address on someone else's shared network is not the caller's
to choose."""

from __future__ import annotations

import uuid
from typing import Any

from tests.functional.compute.conftest import wait_for_status
from tests.functional.networking.test_servers_with_ports import _metadata


def _tenant(cloud: Any, cidr: str = "10.40.0.0/24") -> tuple[Any, Any, Any]:
    creds = cloud.new_user(roles=("member", "reader"))
    conn = cloud.connection(creds)
    net = conn.network.create_network(name=f"net-{uuid.uuid4().hex[:6]}")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr=cidr)
    return creds, conn, net


def _boot(conn: Any, image_id: str, flavor_id: str, networks: Any, groups: Any = None) -> Any:
    body: dict[str, Any] = {"name": f"vm-{uuid.uuid4().hex[:6]}", "imageRef": image_id, "flavorRef": flavor_id,
                            "networks": networks}
    if groups is not None:
        body["security_groups"] = groups
    return conn.compute.post("/servers", json={"server": body}, raise_exc=False, microversion="2.37")


def _message(resp: Any) -> str:
    return str(next(iter(resp.json().values()))["message"])


def test_security_group_names_are_looked_up_in_the_callers_project_only(cloud, image_id, flavor_id):
    owner, a, _ = _tenant(cloud)
    _, b, b_net = _tenant(cloud)
    theirs = a.network.create_security_group(name=f"sg-{uuid.uuid4().hex[:6]}")
    injected = [f"{theirs.name}&project_id={owner.project_id}", f"{theirs.name}&project_id={owner.project_id}&x=",
                theirs.name, theirs.id, f"{theirs.id}?project_id={owner.project_id}"]
    for name in injected:
        resp = _boot(b, image_id, flavor_id, [{"uuid": b_net.id}], [{"name": name}])
        assert resp.status_code == 400, (name, resp.text)
        assert "unable to find security_group with name or id" in _message(resp).lower(), resp.text
    server = wait_for_status(b, _boot(b, image_id, flavor_id, [{"uuid": b_net.id}]).json()["server"]["id"], "ACTIVE")
    port = next(iter(b.network.ports(device_id=server.id)))
    for name in injected:
        resp = b.compute.post(f"/servers/{server.id}/action", json={"addSecurityGroup": {"name": name}},
                              raise_exc=False)
        assert resp.status_code == 400 and "unable to find security_group" in _message(resp).lower(), (name, resp.text)
    assert theirs.id not in b.network.get_port(port.id).security_group_ids
    mine = b.network.create_security_group(name=theirs.name)  # the same name, in the caller's project
    done = b.compute.post(f"/servers/{server.id}/action", json={"addSecurityGroup": {"name": theirs.name}},
                          raise_exc=False)
    assert done.status_code == 202, done.text
    groups = b.network.get_port(port.id).security_group_ids
    assert mine.id in groups and theirs.id not in groups
    b.compute.delete_server(server)
    b.compute.wait_for_delete(server, wait=30)


def test_another_projects_port_never_becomes_a_servers_interface(cloud, image_id, flavor_id):
    _, a, a_net = _tenant(cloud)
    _, b, b_net = _tenant(cloud)
    admin = cloud.connection()
    server = wait_for_status(a, _boot(a, image_id, flavor_id, [{"uuid": a_net.id}]).json()["server"]["id"], "ACTIVE")
    own = next(iter(a.network.ports(device_id=server.id)))
    intruder = b.network.create_port(network_id=b_net.id)
    # The network API lets a port's owner write any device_id and a compute:* owner (as Neutron does) ...
    b.network.update_port(intruder, device_id=server.id, device_owner="compute:nova")
    # ... but compute only counts the ports of the server's project that it bound itself.
    assert [i.port_id for i in a.compute.server_interfaces(server)] == [own.id]
    assert [i.port_id for i in admin.compute.server_interfaces(server)] == [own.id]
    links = _metadata(cloud, "/openstack/latest/network_data.json", server.id).json()["links"]
    assert [link["ethernet_mac_address"] for link in links] == [own.mac_address]  # the guest's metadata too
    web = a.network.create_security_group(name="web")
    added = a.compute.post(f"/servers/{server.id}/action", json={"addSecurityGroup": {"name": "web"}},
                           raise_exc=False)
    assert added.status_code == 202, added.text
    assert web.id not in admin.network.get_port(intruder.id).security_group_ids
    a.compute.shelve_server(server)
    wait_for_status(a, server.id, "SHELVED_OFFLOADED")
    a.compute.unshelve_server(server)
    unshelved = wait_for_status(a, server.id, "ACTIVE")
    assert list(unshelved.addresses) == [a_net.name]
    assert not admin.network.get_port(intruder.id).binding_host_id  # never bound to the server's host
    a.compute.delete_server(server)
    a.compute.wait_for_delete(server, wait=30)
    kept = admin.network.get_port(intruder.id)  # deleting the server leaves the other project's port alone
    assert kept.device_id == server.id and kept.project_id == intruder.project_id
    b.network.delete_port(intruder)


def test_a_chosen_address_on_another_projects_shared_network_is_refused_at_boot(cloud, image_id, flavor_id):
    admin = cloud.connection()
    shared = admin.network.create_network(name=f"shared-{uuid.uuid4().hex[:6]}", is_shared=True)
    admin.network.create_subnet(network_id=shared.id, ip_version=4, cidr="10.41.0.0/24")
    _, b, b_net = _tenant(cloud)
    refused = _boot(b, image_id, flavor_id, [{"uuid": shared.id, "fixed_ip": "10.41.0.50"}])
    assert refused.status_code == 403 and "create_port:fixed_ips:ip_address" in _message(refused), refused.text
    assert not list(b.compute.servers())
    own = _boot(b, image_id, flavor_id, [{"uuid": b_net.id, "fixed_ip": "10.40.0.50"}])
    assert own.status_code == 202, own.text
    server = wait_for_status(b, own.json()["server"]["id"], "ACTIVE")
    assert server.addresses[b_net.name][0]["addr"] == "10.40.0.50"
    b.compute.delete_server(server)
    b.compute.wait_for_delete(server, wait=30)
    admin.network.delete_network(shared)
