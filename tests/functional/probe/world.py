"""The cloud the persona matrix probes: personas with real tokens, and project A's resources.

Every persona is a real user with a real role assignment and a token of the
scope the persona is about. Project A owns one of each resource the APIs serve
(a server, a keypair, a network with a subnet and a port, a router, a security
group with a rule, a floating IP, a private image, a server group, an
application credential...), made through the public APIs by A's member; the
matrix then fills each route's path parameters from them.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import requests

from tests import fixtures
from tests.functional.cloud import Cloud

# The personas of OpenStack's default policies, across two projects and a domain.
PERSONAS = ("admin", "member", "reader", "other", "domain_admin", "system_reader", "appcred")
ANONYMOUS = "anonymous"


@dataclasses.dataclass
class World:
    """Tokens by persona, resource ids by name, and a way to call any service as anyone."""

    cloud: Cloud
    tokens: dict[str, str]
    ids: dict[str, str]
    urls: dict[str, str]

    def call(self, persona: str, service: str, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        """One request as ``persona`` (no token for ``anonymous``)."""
        sent = dict(headers or {})
        if service == "compute":
            # 2.37: the first version that takes "networks": "none" (servers without ports).
            sent.setdefault("OpenStack-API-Version", "compute 2.37")
        if service == "volume":
            sent.setdefault("OpenStack-API-Version", "volume 3.60")  # the attachments API needs 3.27 (3.44)
        if persona != ANONYMOUS:
            sent["X-Auth-Token"] = self.tokens[persona]
        admin_base = f"/v3/{self.ids.get('project_of_admin')}"
        if service == "volume" and path.startswith(admin_base):
            # Cinder's URLs name the caller's project (clients take them from the token's catalog); the
            # matrix's paths name the admin's.
            path = f"/v3/{self.project_of(persona)}" + path[len(admin_base):]
        if service == "image" and method == "PATCH":
            sent["Content-Type"] = "application/openstack-images-v2.1-json-patch"
            data = None if body is None else json.dumps(body)
            return requests.request(method, self.urls[service] + path, data=data, headers=sent, timeout=30)
        if method == "PUT" and path.endswith(("/file", "/stage")):
            sent["Content-Type"] = "application/octet-stream"
            return requests.request(method, self.urls[service] + path, data=b"\0" * 512, headers=sent,
                                    timeout=30)
        return requests.request(method, self.urls[service] + path, json=body, headers=sent, timeout=30)

    def project_of(self, persona: str) -> str:
        """The project a persona's token is scoped to (project A for the personas without one)."""
        return self.ids.get(f"project_of_{persona}", self.ids["project_a"])

    def private_ids(self) -> list[str]:
        """Ids of A's resources that no other project may ever see."""
        return [self.ids[k] for k in ("server", "network", "subnet", "port", "router", "security_group",
                                      "address_scope", "private_image", "server_group", "keypair_fingerprint", "volume",
                                      "snapshot", "attachment", "qos_policy", "metadef_namespace")]


def _ok(resp: requests.Response) -> Any:
    assert resp.status_code < 300, f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    return resp.json() if resp.content else None


def _token(auth_url: str, identity: dict[str, Any], scope: dict[str, Any] | None) -> str:
    body: dict[str, Any] = {"auth": {"identity": identity}}
    if scope is not None:
        body["auth"]["scope"] = scope
    resp = requests.post(auth_url + "/auth/tokens", json=body, timeout=30)
    _ok(resp)
    return resp.headers["X-Subject-Token"]


def _password(user_id: str, password: str) -> dict[str, Any]:
    return {"methods": ["password"], "password": {"user": {"id": user_id, "password": password}}}


def build(cloud: Cloud, services: dict[str, str]) -> World:
    """Create the personas and A's resources; ``services`` maps service name to its base URL."""
    suffix = uuid.uuid4().hex[:8]
    password = uuid.uuid4().hex
    auth_url = cloud.auth_url
    admin_token = _token(auth_url, {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": cloud.admin.password}}},
        {"project": {"name": "admin", "domain": {"id": "default"}}})
    world = World(cloud, {"admin": admin_token}, {}, services)
    ids = world.ids

    def admin(method: str, service: str, path: str, body: Any = None) -> Any:
        return _ok(world.call("admin", service, method, path, body))

    roles = {r["name"]: r["id"] for r in admin("GET", "identity", "/v3/roles")["roles"]}
    ids["role_reader"] = roles["reader"]
    ids["domain"] = admin("POST", "identity", "/v3/domains", {"domain": {"name": f"dom-{suffix}"}})["domain"]["id"]
    for name in ("a", "b"):
        ids[f"project_{name}"] = admin("POST", "identity", "/v3/projects", {"project": {
            "name": f"proj-{name}-{suffix}", "domain_id": "default"}})["project"]["id"]
    ids["project_in_domain"] = admin("POST", "identity", "/v3/projects", {"project": {
        "name": f"proj-d-{suffix}", "domain_id": ids["domain"]}})["project"]["id"]

    def user(name: str, domain: str = "default") -> str:
        return str(admin("POST", "identity", "/v3/users", {"user": {
            "name": f"{name}-{suffix}", "domain_id": domain, "password": password}})["user"]["id"])

    layout = {"member": ("project_a", "member"), "reader": ("project_a", "reader"),
              "other": ("project_b", "member")}
    for persona, (project, role) in layout.items():
        ids[f"user_{persona}"] = user(persona)
        admin("PUT", "identity", f"/v3/projects/{ids[project]}/users/{ids[f'user_{persona}']}/roles/{roles[role]}")
        world.tokens[persona] = _token(auth_url, _password(ids[f"user_{persona}"], password),
                                       {"project": {"id": ids[project]}})
    ids["user_domain_admin"] = user("domain-admin", ids["domain"])
    admin("PUT", "identity", f"/v3/domains/{ids['domain']}/users/{ids['user_domain_admin']}/roles/{roles['admin']}")
    world.tokens["domain_admin"] = _token(auth_url, _password(ids["user_domain_admin"], password),
                                          {"domain": {"id": ids["domain"]}})
    ids["user_system_reader"] = user("system-reader")
    admin("PUT", "identity", f"/v3/system/users/{ids['user_system_reader']}/roles/{roles['reader']}")
    world.tokens["system_reader"] = _token(auth_url, _password(ids["user_system_reader"], password),
                                           {"system": {"all": True}})
    ids["user_in_domain"] = user("in-domain", ids["domain"])
    ids["group"] = admin("POST", "identity", "/v3/groups", {"group": {
        "name": f"group-{suffix}", "domain_id": ids["domain"]}})["group"]["id"]

    # A's member holds a reader-only application credential: the "appcred" persona.
    member_call = _as(world, "member")
    # The member needs reader too, so that a credential restricted to reader is valid.
    admin("PUT", "identity", f"/v3/projects/{ids['project_a']}/users/{ids['user_member']}/roles/{roles['reader']}")
    world.tokens["member"] = _token(auth_url, _password(ids["user_member"], password),
                                    {"project": {"id": ids["project_a"]}})
    cred = member_call("POST", "identity", f"/v3/users/{ids['user_member']}/application_credentials", {
        "application_credential": {"name": f"ro-{suffix}", "roles": [{"name": "reader"}]}})["application_credential"]
    ids["app_cred"] = cred["id"]
    # A second credential, limited by an access rule: the rule is a resource of its own.
    ids["access_rule"] = member_call("POST", "identity", f"/v3/users/{ids['user_member']}/application_credentials", {
        "application_credential": {"name": f"rules-{suffix}", "access_rules": [
            {"service": "compute", "method": "GET", "path": "/v2.1/servers"}]}})[
        "application_credential"]["access_rules"][0]["id"]
    world.tokens["appcred"] = _token(auth_url, {"methods": ["application_credential"], "application_credential": {
        "id": cred["id"], "secret": cred["secret"]}}, None)
    ids["credential"] = member_call("POST", "identity", "/v3/credentials", {"credential": {
        "type": "ec2", "user_id": ids["user_member"], "project_id": ids["project_a"],
        "blob": json.dumps({"access": suffix, "secret": "s"})}})["credential"]["id"]
    ids["ec2_access"] = suffix  # that credential, as OS-EC2 names it
    ids["trust"] = member_call("POST", "identity", "/v3/OS-TRUST/trusts", {"trust": {
        "trustor_user_id": ids["user_member"], "trustee_user_id": ids["user_reader"], "project_id": ids["project_a"],
        "impersonation": False, "roles": [{"name": "reader"}]}})["trust"]["id"]
    ids["oauth_consumer"] = admin("POST", "identity", "/v3/OS-OAUTH1/consumers", {"consumer": {
        "description": f"probe-{suffix}"}})["consumer"]["id"]
    ids["endpoint_group"] = admin("POST", "identity", "/v3/OS-EP-FILTER/endpoint_groups", {"endpoint_group": {
        "name": f"eg-{suffix}", "filters": {"interface": "public"}}})["endpoint_group"]["id"]
    admin("PUT", "identity", f"/v3/domains/{ids['domain']}/config", {"config": {"identity": {"driver": "sql"}}})
    ids["idp"], ids["mapping"], ids["sp"] = f"idp-{suffix}", f"mapping-{suffix}", f"sp-{suffix}"
    admin("PUT", "identity", f"/v3/OS-FEDERATION/identity_providers/{ids['idp']}", {"identity_provider": {
        "domain_id": ids["domain"]}})
    admin("PUT", "identity", f"/v3/OS-FEDERATION/mappings/{ids['mapping']}", {"mapping": {"rules": [
        {"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "REMOTE_USER"}]}]}})
    admin("PUT", "identity", f"/v3/OS-FEDERATION/identity_providers/{ids['idp']}/protocols/saml2", {"protocol": {
        "mapping_id": ids["mapping"]}})
    admin("PUT", "identity", f"/v3/OS-FEDERATION/service_providers/{ids['sp']}", {"service_provider": {
        "auth_url": "https://sp.example/v3", "sp_url": "https://sp.example/Shibboleth.sso/SAML2/ECP"}})
    ids["policy"] = admin("POST", "identity", "/v3/policies", {"policy": {
        "type": "application/json", "blob": "{}"}})["policy"]["id"]
    ids["region"] = admin("POST", "identity", "/v3/regions", {"region": {"id": f"region-{suffix}"}})["region"]["id"]
    ids["service"] = admin("GET", "identity", "/v3/services")["services"][0]["id"]
    ids["endpoint"] = admin("GET", "identity", "/v3/endpoints")["endpoints"][0]["id"]
    ids["limit_resource"] = f"cores-{suffix}"
    ids["registered_limit"] = admin("POST", "identity", "/v3/registered_limits", {"registered_limits": [{
        "service_id": ids["service"], "resource_name": ids["limit_resource"], "default_limit": 10}]})[
        "registered_limits"][0]["id"]
    ids["limit"] = admin("POST", "identity", "/v3/limits", {"limits": [{
        "service_id": ids["service"], "project_id": ids["project_a"], "resource_name": ids["limit_resource"],
        "resource_limit": 5}]})["limits"][0]["id"]

    _compute_and_image(world, admin, member_call, suffix)
    _network(world, admin, member_call, suffix)
    _volume(world, admin, member_call, suffix)
    return world


def _as(world: World, persona: str) -> Any:
    def call(method: str, service: str, path: str, body: Any = None) -> Any:
        return _ok(world.call(persona, service, method, path, body))
    return call


def _compute_and_image(world: World, admin: Any, member: Any, suffix: str) -> None:
    ids = world.ids
    ids["flavor"] = str(admin("POST", "compute", "/v2.1/flavors", {"flavor": {
        "name": f"m-{suffix}", "ram": 64, "vcpus": 1, "disk": 1}})["flavor"]["id"])
    admin("POST", "compute", f"/v2.1/flavors/{ids['flavor']}/os-extra_specs", {"extra_specs": {"hw:numa_nodes": "1"}})
    ids["public_image"] = admin("POST", "image", "/v2/images", {
        "name": f"pub-{suffix}", "disk_format": "raw", "container_format": "bare", "visibility": "public"})["id"]
    resp = world.call("admin", "image", "PUT", f"/v2/images/{ids['public_image']}/file")
    assert resp.status_code == 204, resp.text
    # A private metadata definitions namespace of project A (only admins write the catalog).
    ids["metadef_namespace"] = admin("POST", "image", "/v2/metadefs/namespaces", {
        "namespace": f"OS::Probe::{suffix}", "visibility": "private", "owner": ids["project_a"],
        "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "probe_"}],
        "objects": [{"name": "probe-object"}], "tags": [{"name": "probe-tag"}],
        "properties": {"probe_property": {"title": "Probe", "type": "string"}}})["namespace"]
    ids["private_image"] = member("POST", "image", "/v2/images", {
        "name": f"priv-{suffix}", "disk_format": "raw", "container_format": "bare", "visibility": "private"})["id"]
    ids["shared_image"] = member("POST", "image", "/v2/images", {
        "name": f"shared-{suffix}", "disk_format": "raw", "container_format": "bare", "visibility": "shared"})["id"]
    member("POST", "image", f"/v2/images/{ids['shared_image']}/members", {"member": ids["project_b"]})
    keypair = member("POST", "compute", "/v2.1/os-keypairs", {"keypair": {"name": f"kp-{suffix}"}})["keypair"]
    ids["keypair"] = keypair["name"]
    ids["keypair_fingerprint"] = keypair["fingerprint"]
    ids["server_group"] = member("POST", "compute", "/v2.1/os-server-groups", {"server_group": {
        "name": f"sg-{suffix}", "policies": ["anti-affinity"]}})["server_group"]["id"]
    server = member("POST", "compute", "/v2.1/servers", {"server": {
        "name": f"vm-{suffix}", "imageRef": ids["public_image"], "flavorRef": ids["flavor"], "networks": "none"}},
    )["server"]
    ids["server"] = server["id"]
    fixtures.wait_until(lambda: member("GET", "compute", f"/v2.1/servers/{server['id']}")["server"]["status"]
                        == "ACTIVE", timeout=60, interval=0.2, what="A's server to become ACTIVE")
    member("PUT", "compute", f"/v2.1/servers/{server['id']}/metadata/color", {"meta": {"color": "blue"}})
    services = admin("GET", "compute", "/v2.1/os-services")["services"]
    ids["compute_service"] = str(next(s["id"] for s in services if s["binary"] == "nova-compute"))
    ids["compute_host"] = next(s["host"] for s in services if s["binary"] == "nova-compute")
    ids["server_action"] = member("GET", "compute", f"/v2.1/servers/{server['id']}/os-instance-actions")[
        "instanceActions"][0]["request_id"]
    ids["hypervisor"] = str(admin("GET", "compute", "/v2.1/os-hypervisors")["hypervisors"][0]["id"])
    ids["aggregate"] = str(admin("POST", "compute", "/v2.1/os-aggregates", {"aggregate": {
        "name": f"agg-{suffix}"}})["aggregate"]["id"])
    providers = admin("GET", "placement", "/resource_providers")["resource_providers"]
    ids["provider"] = providers[0]["uuid"]


def _network(world: World, admin: Any, member: Any, suffix: str) -> None:
    ids = world.ids
    external = admin("POST", "network", "/v2.0/networks", {"network": {
        "name": f"ext-{suffix}", "router:external": True}})["network"]
    ids["external_network"] = external["id"]
    admin("POST", "network", "/v2.0/subnets", {"subnet": {
        "network_id": external["id"], "cidr": "203.0.113.0/24", "ip_version": 4, "enable_dhcp": False}})
    ids["network"] = member("POST", "network", "/v2.0/networks", {"network": {"name": f"net-{suffix}"}})["network"]["id"]
    ids["subnet"] = member("POST", "network", "/v2.0/subnets", {"subnet": {
        "network_id": ids["network"], "cidr": "10.77.0.0/24", "ip_version": 4}})["subnet"]["id"]
    ids["port"] = member("POST", "network", "/v2.0/ports", {"port": {"network_id": ids["network"]}})["port"]["id"]
    ids["router"] = member("POST", "network", "/v2.0/routers", {"router": {
        "name": f"r-{suffix}", "external_gateway_info": {"network_id": external["id"]}}})["router"]["id"]
    ids["security_group"] = member("POST", "network", "/v2.0/security-groups", {"security_group": {
        "name": f"secgrp-{suffix}"}})["security_group"]["id"]
    ids["security_group_rule"] = member("POST", "network", "/v2.0/security-group-rules", {"security_group_rule": {
        "security_group_id": ids["security_group"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22}})["security_group_rule"]["id"]
    ids["floatingip"] = member("POST", "network", "/v2.0/floatingips", {"floatingip": {
        "floating_network_id": external["id"]}})["floatingip"]["id"]
    ids["subnetpool"] = member("POST", "network", "/v2.0/subnetpools", {"subnetpool": {
        "name": f"pool-{suffix}", "prefixes": ["10.99.0.0/16"], "default_prefixlen": 24}})["subnetpool"]["id"]
    ids["address_scope"] = member("POST", "network", "/v2.0/address-scopes", {"address_scope": {
        "name": f"scope-{suffix}", "ip_version": 4}})["address_scope"]["id"]
    ids["rbac_policy"] = member("POST", "network", "/v2.0/rbac-policies", {"rbac_policy": {
        "object_type": "network", "object_id": ids["network"], "action": "access_as_shared",
        "target_tenant": uuid.uuid4().hex}})["rbac_policy"]["id"]
    ids["metering_label"] = admin("POST", "network", "/v2.0/metering/metering-labels", {"metering_label": {
        "name": f"meter-{suffix}"}})["metering_label"]["id"]
    ids["metering_label_rule"] = admin("POST", "network", "/v2.0/metering/metering-label-rules", {
        "metering_label_rule": {"metering_label_id": ids["metering_label"], "remote_ip_prefix": "10.0.0.0/8"}})[
        "metering_label_rule"]["id"]
    # QoS policies and rules are the admin's to make (Neutron); A's policy is read by A's personas.
    ids["qos_policy"] = admin("POST", "network", "/v2.0/qos/policies", {"policy": {
        "name": f"qos-{suffix}", "project_id": ids["project_a"]}})["policy"]["id"]
    for kind, rule in (("bandwidth_limit", {"max_kbps": 1000}), ("dscp_marking", {"dscp_mark": 8}),
                       ("minimum_bandwidth", {"min_kbps": 100})):
        ids[f"qos_{kind}_rule"] = admin("POST", "network", f"/v2.0/qos/policies/{ids['qos_policy']}/{kind}_rules", {
            f"{kind}_rule": rule})[f"{kind}_rule"]["id"]
    ids["agent"] = (admin("GET", "network", "/v2.0/agents")["agents"] or [{"id": "0" * 32}])[0]["id"]
    for collection, key in (("networks", "network"), ("ports", "port"), ("routers", "router")):
        member("PUT", "network", f"/v2.0/{collection}/{ids[key]}/tags/blue")
    member("PUT", "image", f"/v2/images/{ids['private_image']}/tags/blue")


def _volume(world: World, admin: Any, member: Any, suffix: str) -> None:
    """A's volume (with metadata), its snapshot, and a volume type."""
    ids = world.ids
    admin_project = admin("GET", "identity", "/v3/auth/projects")["projects"]
    ids["project_of_admin"] = next(p["id"] for p in admin_project if p["name"] == "admin")
    for persona in ("member", "reader", "appcred"):
        ids[f"project_of_{persona}"] = ids["project_a"]
    ids["project_of_other"] = ids["project_b"]
    base = f"/v3/{ids['project_of_admin']}"
    ids["volume_type"] = admin("POST", "volume", f"{base}/types", {"volume_type": {
        "name": f"vt-{suffix}", "extra_specs": {"tier": "gold"}}})["volume_type"]["id"]
    volume = member("POST", "volume", f"{base}/volumes", {"volume": {
        "size": 1, "name": f"vol-{suffix}", "metadata": {"color": "blue"}}})["volume"]
    ids["volume"] = volume["id"]
    fixtures.wait_until(lambda: member("GET", "volume", f"{base}/volumes/{volume['id']}")["volume"]["status"]
                        == "available", timeout=60, interval=0.2, what="A's volume to become available")
    snapshot = member("POST", "volume", f"{base}/snapshots", {"snapshot": {"volume_id": volume["id"]}})["snapshot"]
    ids["snapshot"] = snapshot["id"]
    attached = member("POST", "volume", f"{base}/volumes", {"volume": {"size": 1, "name": f"att-{suffix}"}})["volume"]
    fixtures.wait_until(lambda: member("GET", "volume", f"{base}/volumes/{attached['id']}")["volume"]["status"]
                        == "available", timeout=60, interval=0.2, what="A's second volume to become available")
    ids["attachment"] = member("POST", "volume", f"{base}/attachments", {"attachment": {
        "volume_uuid": attached["id"], "instance_uuid": ids["server"]}})["attachment"]["id"]
    fixtures.wait_until(lambda: member("GET", "volume", f"{base}/snapshots/{snapshot['id']}")["snapshot"]["status"]
                        == "available", timeout=60, interval=0.2, what="A's snapshot to become available")

