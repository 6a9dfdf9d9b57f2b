"""Servers on networks: ports created and bound by the host, wired by its agent, shown as addresses,
released on delete; bad network requests answered at boot; metadata signed and scoped to the caller."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from typing import Any

import requests

from tests import fixtures
from tests.functional.compute.conftest import wait_for_status


def _tenant(cloud: Any) -> tuple[Any, Any, Any]:
    creds = cloud.new_user(roles=("member", "reader"))
    conn = cloud.connection(creds)
    net = conn.network.create_network(name=f"net-{uuid.uuid4().hex[:6]}")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.30.0.0/24", dns_nameservers=["192.0.2.53"])
    return creds, conn, net


def _boot(conn: Any, image_id: str, flavor_id: str, networks: Any, **kwargs: Any) -> Any:
    return conn.compute.create_server(name=kwargs.pop("name", f"vm-{uuid.uuid4().hex[:6]}"), image_id=image_id,
                                      flavor_id=flavor_id, networks=networks, **kwargs)


def test_server_gets_a_wired_port_and_gives_it_back(cloud, image_id, flavor_id):
    _, conn, net = _tenant(cloud)
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    ports = list(conn.network.ports(device_id=server.id))
    assert len(ports) == 1 and ports[0].status == "ACTIVE" and ports[0].device_owner == "compute:nova"
    admin_view = cloud.connection().network.get_port(ports[0].id)
    assert admin_view.binding_host_id == cloud.connection().compute.get_server(server.id).compute_host
    ip = ports[0].fixed_ips[0]["ip_address"]
    assert server.addresses[net.name][0]["addr"] == ip
    assert server.addresses[net.name][0]["OS-EXT-IPS-MAC:mac_addr"] == ports[0].mac_address
    listed = cloud.openstack("server", "show", server.id, creds=None)
    assert ip in json.dumps(listed["addresses"])
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)
    assert list(conn.network.ports(device_id=server.id)) == []


def test_a_users_own_port_is_kept_after_delete(cloud, image_id, flavor_id):
    _, conn, net = _tenant(cloud)
    port = conn.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": "10.30.0.77"}])
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"port": port.id}]).id, "ACTIVE")
    assert server.addresses[net.name][0]["addr"] == "10.30.0.77"
    busy = conn.compute.post("/servers", json={"server": {"name": "x", "imageRef": image_id, "flavorRef": flavor_id,
                                                          "networks": [{"port": port.id}]}}, raise_exc=False)
    assert busy.status_code == 409 and "still in use" in busy.json()["conflictingRequest"]["message"]
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)
    kept = conn.network.get_port(port.id)
    assert kept.device_id == "" and kept.fixed_ips[0]["ip_address"] == "10.30.0.77"
    conn.network.delete_port(port)


def test_bad_network_requests_are_refused_at_boot(cloud, image_id, flavor_id):
    _, conn, net = _tenant(cloud)
    conn.network.create_network(name="second")
    missing = str(uuid.uuid4())
    cases = [
        ([{"uuid": "no-such-network"}], None, 400, "is not a 'uuid'"),  # 2.37 wants UUIDs, as Nova's schema does
        ([{"uuid": missing}], None, 400, f"Network {missing} could not be found"),
        ("auto", None, 409, "Multiple possible networks found"),
        ([{"uuid": net.id}], [{"name": "nope"}], 400, "Security group nope not found"),
        ([{"port": str(uuid.uuid4())}], None, 400, "could not be found"),
        ([{"uuid": net.id, "bogus": 1}], None, 400, "Additional properties"),
    ]
    for networks, groups, status, fragment in cases:
        body: dict[str, Any] = {"name": "x", "imageRef": image_id, "flavorRef": flavor_id, "networks": networks}
        if groups:
            body["security_groups"] = groups
        resp = conn.compute.post("/servers", json={"server": body}, raise_exc=False,
                                 microversion="2.37")
        fault = next(iter(resp.json().values()))
        assert resp.status_code == status and fragment in fault["message"], (networks, resp.text)
    other_creds = cloud.new_user()
    stranger = cloud.connection(other_creds)
    resp = stranger.compute.post("/servers", raise_exc=False, json={"server": {
        "name": "x", "imageRef": image_id, "flavorRef": flavor_id, "networks": [{"uuid": net.id}]}})
    assert resp.status_code == 400  # another project's private network does not exist for it


def _metadata(cloud: Any, path: str, instance_id: str | None, secret: str | None = None,
              tenant: str | None = None, post: str | bytes | None = None) -> requests.Response:
    headers = {}
    if instance_id is not None:
        key = (secret or cloud.aio.secrets.metadata_secret).encode()
        headers = {"X-Instance-ID": instance_id,
                   "X-Instance-ID-Signature": hmac.new(key, instance_id.encode(), hashlib.sha256).hexdigest()}
        if tenant:
            headers["X-Tenant-ID"] = tenant
    if post is not None:
        return requests.post(cloud.url("metadata") + path, headers=headers, data=post, timeout=10)
    return requests.get(cloud.url("metadata") + path, headers=headers, timeout=10)


def test_metadata_service_answers_signed_requests_only(cloud, image_id, flavor_id):
    creds, conn, net = _tenant(cloud)
    key = conn.compute.create_keypair(name=f"k-{uuid.uuid4().hex[:6]}")
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}], name="Web Server",
                                         key_name=key.name, metadata={"role": "web"}).id, "ACTIVE")
    port = next(iter(conn.network.ports(device_id=server.id)))
    meta = _metadata(cloud, "/openstack/latest/meta_data.json", server.id, tenant=creds.project_id).json()
    assert meta["uuid"] == server.id and meta["hostname"] == "web-server" and meta["meta"] == {"role": "web"}
    assert meta["public_keys"][key.name] == key.public_key and meta["project_id"] == creds.project_id
    network = _metadata(cloud, "/openstack/latest/network_data.json", server.id).json()
    assert network["links"][0]["ethernet_mac_address"] == port.mac_address
    assert network["networks"][0]["ip_address"] == port.fixed_ips[0]["ip_address"]
    assert network["services"] == [{"type": "dns", "address": "192.0.2.53"}]
    assert _metadata(cloud, "/latest/meta-data/local-ipv4", server.id).text == port.fixed_ips[0]["ip_address"]
    assert _metadata(cloud, "/latest/meta-data/public-keys/0/openssh-key", server.id).text == key.public_key
    assert _metadata(cloud, "/latest/meta-data/public-keys", server.id).text == f"0={key.name}"
    assert _metadata(cloud, "/latest/meta-data/instance-id", server.id).text.startswith("i-")
    assert _metadata(cloud, "/openstack/latest/meta_data.json", None).status_code == 403
    assert _metadata(cloud, "/openstack/latest/meta_data.json", server.id, secret="guess").status_code == 403
    assert _metadata(cloud, "/openstack/latest/meta_data.json", server.id, tenant="other").status_code == 403
    assert _metadata(cloud, "/openstack/latest/user_data", server.id).status_code == 404
    conn.compute.delete_server(server)


def test_security_groups_and_interfaces_of_a_server(cloud, image_id, flavor_id):
    creds, conn, net = _tenant(cloud)
    web = conn.network.create_security_group(name="web")
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    port = next(iter(conn.network.ports(device_id=server.id)))
    attachments = list(conn.compute.server_interfaces(server))
    assert [(a.port_id, a.net_id, a.mac_addr) for a in attachments] == [(port.id, net.id, port.mac_address)]
    cloud.openstack("server", "add", "security", "group", server.id, "web", creds=creds, json_output=False)
    assert web.id in conn.network.get_port(port.id).security_group_ids
    cloud.openstack("server", "remove", "security", "group", server.id, "web", creds=creds, json_output=False)
    assert web.id not in conn.network.get_port(port.id).security_group_ids
    again = cloud.openstack("server", "remove", "security", "group", server.id, "web", creds=creds, check=False,
                            json_output=False)
    assert again.returncode != 0 and "not associated" in again.stderr
    missing = cloud.openstack("server", "add", "security", "group", server.id, "nope", creds=creds, check=False,
                              json_output=False)
    assert missing.returncode != 0 and "nope" in missing.stderr
    hotplug = conn.compute.post(f"/servers/{server.id}/os-interface", json={"interfaceAttachment": {
        "net_id": net.id}}, raise_exc=False)
    assert hotplug.status_code == 400 and "boot the server with the network" in hotplug.text
    conn.compute.delete_server(server)


def test_the_host_learns_of_wired_ports_from_the_event_not_from_polling(cloud, image_id, flavor_id, caplog):
    """The network service posts network-vif-plugged; the build waiting for it wakes on it (a status read is
    only the fallback for a lost event, and logs so), and leaves no waiter behind."""
    from nubis.compute.agent.manager import ComputeAgent

    caplog.set_level(logging.INFO, logger="nubis.compute.agent.events")
    _, conn, net = _tenant(cloud)
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    assert [p.status for p in conn.network.ports(device_id=server.id)] == ["ACTIVE"]
    assert not [r for r in caplog.records if "event did not come" in r.getMessage()]
    agents = [item for item in cloud.aio.running if isinstance(item, ComputeAgent)]
    assert agents and all(len(a.events) == 0 for a in agents)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


def test_guest_posts_its_password_once_and_the_owner_reads_and_clears_it(cloud, image_id, flavor_id):
    """os-server-password (compute "Servers Password") fed by the metadata service's password document."""
    creds, conn, net = _tenant(cloud)
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    url = f"/servers/{server.id}/os-server-password"
    assert conn.compute.get(url).json() == {"password": ""}
    assert "password" in _metadata(cloud, "/openstack/latest", server.id).text.split("\n")
    assert "password" not in _metadata(cloud, "/openstack/2012-08-10", server.id).text.split("\n")
    assert _metadata(cloud, "/openstack/2012-08-10/password", server.id, post="x").status_code == 404
    assert _metadata(cloud, "/openstack/latest/password", server.id, post="x" * 257).status_code == 400
    encrypted = "c2VjcmV0LWVuY3J5cHRlZC13aXRoLXRoZS1rZXlwYWly"
    assert _metadata(cloud, "/openstack/latest/password", server.id, post=encrypted).status_code == 200
    assert _metadata(cloud, "/openstack/latest/password", server.id, post="again").status_code == 409
    assert _metadata(cloud, "/openstack/2013-04-04/password", server.id).text == encrypted
    assert _metadata(cloud, "/openstack/latest/password", None, post="forged").status_code == 403
    assert conn.compute.get(url).json() == {"password": encrypted}

    other = cloud.connection(cloud.new_user(roles=("member", "reader")))
    assert other.compute.get(url).status_code == 404  # another project cannot see the server at all
    reader = cloud.connection(cloud.new_user(roles=("reader",), project_id=creds.project_id))
    assert reader.compute.get(url).json() == {"password": encrypted}
    assert reader.compute.delete(url).status_code == 403  # clearing takes a member
    assert conn.compute.delete(url).status_code == 204
    assert conn.compute.get(url).json() == {"password": ""}
    assert _metadata(cloud, "/openstack/latest/password", server.id, post="new").status_code == 200
    conn.compute.delete_server(server)
    assert conn.compute.get(url).status_code in (404, 200)


def test_a_server_shows_the_security_groups_of_its_ports(cloud, image_id, flavor_id):
    """As Nova: ``security_groups`` names the groups on the server's ports (show and list alike); with every
    group removed the server has none, and shows no ``security_groups`` at all."""
    creds, conn, net = _tenant(cloud)
    conn.network.create_security_group(name="web")
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    bare = wait_for_status(conn, _boot(conn, image_id, flavor_id, "none").id, "ACTIVE")
    cloud.openstack("server", "add", "security", "group", server.id, "web", creds=creds, json_output=False)

    def shown() -> Any:
        return conn.compute.get(f"/servers/{server.id}").json()["server"]

    assert sorted(g["name"] for g in shown()["security_groups"]) == ["default", "web"]
    listed = {s["id"]: s for s in conn.compute.get("/servers/detail").json()["servers"]}
    assert sorted(g["name"] for g in listed[server.id]["security_groups"]) == ["default", "web"]
    assert "security_groups" not in listed[bare.id]  # no ports, no groups
    for name in ("default", "web"):
        cloud.openstack("server", "remove", "security", "group", server.id, name, creds=creds, json_output=False)
    assert "security_groups" not in shown()
    assert conn.compute.get(f"/servers/{server.id}/os-security-groups").json()["security_groups"] == []
    conn.compute.delete_server(server)
    conn.compute.delete_server(bare)


def test_deleting_a_shelved_offloaded_server_releases_its_port(cloud, image_id, flavor_id):
    """No host deletes an offloaded server's guest, so the API gives its ports back itself (Nova's local
    delete): its subnet can be deleted after it."""
    _, conn, net = _tenant(cloud)
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    assert len(list(conn.network.ports(device_id=server.id))) == 1
    conn.compute.shelve_server(server)
    wait_for_status(conn, server.id, "SHELVED_OFFLOADED")
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)
    assert list(conn.network.ports(device_id=server.id)) == []
    for subnet in list(conn.network.subnets(network_id=net.id)):
        conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)


def test_delete_gives_back_a_port_the_build_made_but_never_bound(cloud, image_id, flavor_id):
    """An agent killed between creating a server's port and binding it leaves the port unbound; the
    server's delete (or the restarted agent's recovery) must still find it by the server's project."""
    creds, conn, net = _tenant(cloud)
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    unbound = conn.network.create_port(network_id=net.id, device_id=server.id, device_owner="compute:nova")
    assert not cloud.connection().network.get_port(unbound.id).binding_host_id
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)
    assert list(conn.network.ports(device_id=server.id)) == []


def test_a_delete_racing_the_build_leaves_no_port_or_claim(cloud, image_id, flavor_id, monkeypatch):
    """The API deletes a server still being scheduled by itself (no host yet), and a slow placement stretches
    that delete out (as a failing-over placement did under the HA kill tests): the build must not go on
    meanwhile and leave a bound port and a guest behind a server recorded deleted."""
    from nubis.compute.conductor.rpcapi import ConductorAPI
    from nubis.compute.db.models import Instance
    from nubis.scheduler.rpcapi import SchedulerAPI

    _, conn, net = _tenant(cloud)
    db = cloud.aio.runtime.database("compute")
    racing: set[str] = set()

    def placed_and_built(uuid: str) -> bool:
        with db.reader() as s:
            return s.get(Instance, uuid).vm_state == "active"

    scheduled, deleted = SchedulerAPI.select_destinations, ConductorAPI.instance_deleted

    def slow_schedule(self, ctx, spec, *args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(1.5)  # the delete comes in while the boot waits for its host
        return scheduled(self, ctx, spec, *args, **kwargs)

    def slow_delete(self, ctx, uuid):  # type: ignore[no-untyped-def]
        if uuid in racing:  # the end of the API's local delete waits for the build to have run, if it can
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline and not placed_and_built(uuid):
                time.sleep(0.2)
        return deleted(self, ctx, uuid)

    monkeypatch.setattr(SchedulerAPI, "select_destinations", slow_schedule)
    monkeypatch.setattr(ConductorAPI, "instance_deleted", slow_delete)
    server = _boot(conn, image_id, flavor_id, [{"uuid": net.id}])
    racing.add(server.id)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    assert list(cloud.connection().network.ports(device_id=server.id)) == []
    placement = cloud.connection().session.get(f"{cloud.url('placement')}/allocations/{server.id}",
                                                headers={"OpenStack-API-Version": "placement 1.28"})
    assert placement.json()["allocations"] == {}


def test_a_restarted_agent_releases_ports_of_servers_deleted_while_it_was_down(cloud, image_id, flavor_id):
    """A build's ports outlive the server when the API deleted it before the build had a host and the agent
    died before it saw the delete: the agent, started again, releases them, and only those."""
    from tests.functional.compute.conftest import start_extra_agent

    host = f"orphans-{uuid.uuid4().hex[:6]}"
    _, conn, net = _tenant(cloud)
    admin = cloud.connection().network
    deleted = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    live = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ACTIVE")
    conn.compute.delete_server(deleted)
    conn.compute.wait_for_delete(deleted, wait=30)
    left = {}
    for server in (deleted, live):
        port = conn.network.create_port(network_id=net.id, device_id=server.id, device_owner="compute:nova")
        left[server.id] = admin.update_port(port, binding_host_id=host).id
    _driver, running = start_extra_agent(cloud, host)
    try:
        fixtures.wait_until(lambda: admin.find_port(left[deleted.id]) is None, timeout=30,
                            what=f"the port of deleted server {deleted.id} to be released")
        assert admin.get_port(left[live.id]).device_id == live.id  # a live server's port is not touched
    finally:
        for item in reversed(running):
            item.stop()
        # the stopped host must take no more boots from the tests after this one
        compute = cloud.connection().compute
        for service in compute.services(host=host):
            compute.disable_service(service, service.host, service.binary)
        conn.network.delete_port(left[live.id])
        conn.compute.delete_server(live)


def test_build_fails_cleanly_when_no_agent_wires_the_port(cloud, image_id, flavor_id):
    """Last: it stops the host's network agent. The build must end in ERROR, its port gone."""
    from nubis.network.agent.manager import NetworkAgent

    _, conn, net = _tenant(cloud)
    for item in cloud.aio.running:
        if isinstance(item, NetworkAgent):
            item.stop()
    server = wait_for_status(conn, _boot(conn, image_id, flavor_id, [{"uuid": net.id}]).id, "ERROR", timeout=30)
    assert "network-vif-plugged" in server.fault["message"]
    assert list(conn.network.ports(device_id=server.id)) == []
    conn.compute.delete_server(server)
