"""Nova's deprecated network proxies (``os-security-groups``, ``os-security-group-rules``, ``os-floating-ips``,
``os-floating-ip-pools``, ``os-networks``, ``os-tenant-networks``) answer as Nova does with Neutron behind it
up to microversion 2.35 and 404 from 2.36; they act as the caller, so another project's things stay unseen."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import wait_for_status
from tests.functional.networking.conftest import CONFIG, SERVICES

V21 = "2.1"


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory) -> Iterator[cloud_fixture.Cloud]:  # type: ignore[no-untyped-def]
    with cloud_fixture.running_cloud_on(request.param, tmp_path_factory.mktemp("proxies"), SERVICES, CONFIG) as c:
        yield c


@pytest.fixture(scope="module")
def tenant(cloud: cloud_fixture.Cloud) -> tuple[Any, Any, Any]:
    """A member's credentials, connection and network (with a subnet); an external network for floating IPs."""
    admin = cloud.connection()
    public = admin.network.create_network(name="public", is_router_external=True)
    admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="198.51.100.0/24", is_dhcp_enabled=False)
    creds = cloud.new_user(roles=("member", "reader"))
    conn = cloud.connection(creds)
    net = conn.network.create_network(name="private")
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.60.0.0/24")
    router = conn.network.create_router(name="r", external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    return creds, conn, net


@pytest.fixture(scope="module")
def server(cloud: cloud_fixture.Cloud, tenant: tuple[Any, Any, Any]) -> Any:
    _, conn, net = tenant
    admin = cloud.connection()
    image = admin.image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                     data=io.BytesIO(b"\0" * 4096), visibility="public")
    flavor = admin.compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1)
    body = {"server": {"name": "vm", "imageRef": image.id, "flavorRef": flavor.id, "networks": [{"uuid": net.id}]}}
    made = conn.compute.post("/servers", json=body, microversion=V21).json()["server"]
    return wait_for_status(conn, made["id"], "ACTIVE")


def _call(conn: Any, method: str, path: str, body: Any = None, version: str = V21) -> Any:
    return conn.compute.request(path, method, json=body, raise_exc=False, microversion=version)


def test_security_groups_and_rules_as_nova_shows_them(tenant):
    _, conn, _ = tenant
    made = _call(conn, "POST", "/os-security-groups", {"security_group": {"name": "web", "description": "w"}})
    assert made.status_code == 200, made.text
    group = made.json()["security_group"]
    assert set(group) == {"id", "name", "description", "tenant_id", "rules"}
    assert group["name"] == "web" and group["tenant_id"] == conn.current_project_id
    assert group["rules"] == []  # Neutron's default egress rules are not Nova rules
    rule = _call(conn, "POST", "/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}})
    assert rule.status_code == 200, rule.text
    assert rule.json()["security_group_rule"] == {
        "id": rule.json()["security_group_rule"]["id"], "parent_group_id": group["id"], "ip_protocol": "tcp",
        "from_port": 22, "to_port": 22, "group": {}, "ip_range": {"cidr": "10.0.0.0/8"}}
    from_group = _call(conn, "POST", "/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": group["id"], "group_id": group["id"]}}).json()["security_group_rule"]
    assert from_group["group"] == {"name": "web", "tenant_id": conn.current_project_id}
    assert from_group["ip_range"] == {} and from_group["ip_protocol"] is None
    again = _call(conn, "POST", "/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}})
    assert again.status_code == 400 and "already exists" in again.text
    for bad in ({"ip_protocol": "tcp", "from_port": 70000, "to_port": 22}, {"ip_protocol": "tcp", "from_port": 22,
                "to_port": 21}, {"ip_protocol": "999x", "from_port": 1, "to_port": 2}, {"ip_protocol": "icmp",
                "from_port": 300, "to_port": 0}, {"ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "x"}):
        resp = _call(conn, "POST", "/os-security-group-rules", {"security_group_rule": {
            "parent_group_id": group["id"], **bad}})
        assert resp.status_code == 400, (bad, resp.text)
    assert _call(conn, "POST", "/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": "not-a-uuid", "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}).status_code == 400
    assert _call(conn, "POST", "/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": str(uuid.uuid4()), "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}).status_code == 404
    shown = _call(conn, "GET", f"/os-security-groups/{group['id']}").json()["security_group"]
    assert sorted(r["id"] for r in shown["rules"]) == sorted([rule.json()["security_group_rule"]["id"],
                                                              from_group["id"]])
    listed = _call(conn, "GET", "/os-security-groups").json()["security_groups"]
    assert {"web", "default"} <= {g["name"] for g in listed}
    renamed = _call(conn, "PUT", f"/os-security-groups/{group['id']}", {"security_group": {
        "name": "web2", "description": "d"}})
    assert renamed.status_code == 200 and renamed.json()["security_group"]["name"] == "web2", renamed.text
    for bad_name in ("", "   ", "x" * 256):
        assert _call(conn, "POST", "/os-security-groups", {"security_group": {
            "name": bad_name, "description": "d"}}).status_code == 400
    assert _call(conn, "DELETE", f"/os-security-group-rules/{from_group['id']}").status_code == 202
    assert _call(conn, "DELETE", f"/os-security-group-rules/{from_group['id']}").status_code == 404
    default = next(g for g in listed if g["name"] == "default")
    assert _call(conn, "DELETE", f"/os-security-groups/{default['id']}").status_code == 400
    assert _call(conn, "DELETE", f"/os-security-groups/{group['id']}").status_code == 202
    assert _call(conn, "GET", f"/os-security-groups/{group['id']}").status_code == 404
    assert _call(conn, "GET", "/os-security-groups", version="2.36").status_code == 404


def test_another_projects_security_group_is_not_found(cloud, tenant):
    _, conn, _ = tenant
    group = _call(conn, "POST", "/os-security-groups", {"security_group": {"name": "mine", "description": "m"}})
    other = cloud.connection(cloud.new_user(roles=("member", "reader")))
    gid = group.json()["security_group"]["id"]
    assert _call(other, "GET", f"/os-security-groups/{gid}").status_code == 404
    assert _call(other, "DELETE", f"/os-security-groups/{gid}").status_code == 404
    assert gid not in {g["id"] for g in _call(other, "GET", "/os-security-groups").json()["security_groups"]}


def test_floating_ips_through_compute(cloud, tenant, server):
    _, conn, _ = tenant
    pools = _call(conn, "GET", "/os-floating-ip-pools").json()["floating_ip_pools"]
    assert {"name": "public"} in pools
    assert _call(conn, "POST", "/os-floating-ips", {"pool": "no-such-pool"}).status_code == 404
    made = _call(conn, "POST", "/os-floating-ips", {"pool": "public"})
    assert made.status_code == 200, made.text
    fip = made.json()["floating_ip"]
    assert fip["pool"] == "public" and fip["instance_id"] is None and fip["fixed_ip"] is None
    assert set(fip) == {"id", "ip", "fixed_ip", "instance_id", "pool"}
    assert fip["id"] in {f["id"] for f in _call(conn, "GET", "/os-floating-ips").json()["floating_ips"]}
    added = _call(conn, "POST", f"/servers/{server.id}/action", {"addFloatingIp": {"address": fip["ip"]}})
    assert added.status_code == 202, added.text
    shown = _call(conn, "GET", f"/os-floating-ips/{fip['id']}").json()["floating_ip"]
    assert shown["instance_id"] == server.id and shown["fixed_ip"].startswith("10.60.0.")
    assert _call(conn, "POST", f"/servers/{server.id}/action", {"addFloatingIp": {"address": ""}}).status_code == 400
    assert _call(conn, "POST", f"/servers/{server.id}/action", {
        "addFloatingIp": {"address": "203.0.113.250"}}).status_code == 404
    assert _call(conn, "POST", f"/servers/{server.id}/action", {"removeFloatingIp": {"address": fip["ip"]}},
                 version="2.44").status_code == 404
    removed = _call(conn, "POST", f"/servers/{server.id}/action", {"removeFloatingIp": {"address": fip["ip"]}})
    assert removed.status_code == 202, removed.text
    again = _call(conn, "POST", f"/servers/{server.id}/action", {"removeFloatingIp": {"address": fip["ip"]}})
    assert again.status_code == 409
    assert _call(conn, "DELETE", f"/os-floating-ips/{fip['id']}").status_code == 202
    assert _call(conn, "GET", f"/os-floating-ips/{fip['id']}").status_code == 404
    assert _call(conn, "GET", "/os-floating-ips", version="2.36").status_code == 404


def test_server_security_groups_and_networks(cloud, tenant, server):
    _, conn, net = tenant
    groups = _call(conn, "GET", f"/servers/{server.id}/os-security-groups", version="2.60")
    assert groups.status_code == 200 and [g["name"] for g in groups.json()["security_groups"]] == ["default"]
    networks = _call(conn, "GET", "/os-networks").json()["networks"]
    mine = next(n for n in networks if n["id"] == net.id)
    assert mine["label"] == "private" and mine["cidr"] is None and "project_id" not in mine
    assert _call(conn, "GET", f"/os-networks/{net.id}").json()["network"]["label"] == "private"
    assert _call(conn, "GET", f"/os-networks/{uuid.uuid4()}").status_code == 404
    assert _call(conn, "GET", "/os-networks", version="2.36").status_code == 404
    tenant_nets = _call(conn, "GET", "/os-tenant-networks").json()["networks"]
    assert {"id": net.id, "label": "private", "cidr": None} in tenant_nets
    other = cloud.connection(cloud.new_user(roles=("member", "reader")))
    assert _call(other, "GET", f"/os-networks/{net.id}").status_code == 404


def test_restore_and_inject_network_info(cloud, tenant, server):
    """``restore`` is a 409 (no server is ever soft-deleted here); ``injectNetworkInfo`` is an admin's 202 and
    the server keeps its addresses."""
    _, conn, _ = tenant
    resp = _call(conn, "POST", f"/servers/{server.id}/action", {"restore": None})
    assert resp.status_code == 409 and "vm_state active" in resp.text, resp.text
    assert _call(conn, "POST", f"/servers/{server.id}/action", {"injectNetworkInfo": None}).status_code == 403
    admin = cloud.connection()
    assert _call(admin, "POST", f"/servers/{server.id}/action", {"injectNetworkInfo": None}).status_code == 202
    shown = _call(conn, "GET", f"/servers/{server.id}").json()["server"]
    assert shown["status"] == "ACTIVE" and shown["addresses"]["private"]


def test_update_shows_plain_addresses_before_2_75(tenant, server):
    """An update's (and a rebuild's) response shows addresses without OS-EXT-IPS* before 2.75, as Nova."""
    _, conn, _ = tenant
    old = _call(conn, "PUT", f"/servers/{server.id}", {"server": {"name": "vm"}}).json()["server"]
    assert [set(a) for a in old["addresses"]["private"]] == [{"addr", "version"}]
    new = _call(conn, "PUT", f"/servers/{server.id}", {"server": {"name": "vm"}}, version="2.75").json()["server"]
    assert "OS-EXT-IPS:type" in new["addresses"]["private"][0]


def test_server_ips(cloud, tenant, server):
    """``/servers/{id}/ips`` and ``/ips/{label}``: addresses by network, ``version`` and ``addr`` only."""
    _, conn, _ = tenant
    listed = _call(conn, "GET", f"/servers/{server.id}/ips").json()["addresses"]
    assert list(listed) == ["private"] and set(listed["private"][0]) == {"version", "addr"}
    one = _call(conn, "GET", f"/servers/{server.id}/ips/private")
    assert one.status_code == 200 and one.json() == {"private": listed["private"]}
    assert _call(conn, "GET", f"/servers/{server.id}/ips/nowhere").status_code == 404
    other = cloud.connection(cloud.new_user(roles=("member", "reader")))
    assert _call(other, "GET", f"/servers/{server.id}/ips").status_code == 404


def test_rule_cidr_as_given(tenant):
    _, conn, _ = tenant
    group = _call(conn, "POST", "/os-security-groups", {"security_group": {"name": "c", "description": "c"}})
    rule = _call(conn, "POST", "/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": group.json()["security_group"]["id"], "ip_protocol": "tcp", "from_port": 80,
        "to_port": 80, "cidr": "10.2.3.124/24"}})
    assert rule.json()["security_group_rule"]["ip_range"] == {"cidr": "10.2.3.124/24"}, rule.text


def test_list_servers_by_ip(tenant, server):
    """``ip`` filters servers by a regular expression matched at the start of a fixed IPv4 address (Nova)."""
    _, conn, _ = tenant
    assert [s["id"] for s in _call(conn, "GET", "/servers?ip=10.60.0.").json()["servers"]] == [server.id]
    assert _call(conn, "GET", "/servers?ip=10.61.").json()["servers"] == []
    assert _call(conn, "GET", "/servers?ip=0.60").json()["servers"] == []  # anchored: a match, not a search
    assert _call(conn, "GET", "/servers?ip=(").status_code == 400
