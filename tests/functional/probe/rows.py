"""The persona matrix: who may call each API route, following the references' default policies.

One row per (service, method, route template) of every API. A row names an
access class; the class says which personas must be let through (never 401/403)
and which must be refused (never a 2xx). Personas the reference leaves open (a
system reader reading project APIs, a domain admin reading identity lists) are
not asserted. ``test_every_route_has_a_row`` fails when a route is added
without a row here.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from tests.functional.probe.world import PERSONAS, World

Body = Callable[[World], Any] | None


@dataclasses.dataclass(frozen=True)
class Access:
    allowed: frozenset[str]
    unchecked_reads: frozenset[str] = frozenset()
    unchecked_writes: frozenset[str] = frozenset()


def _access(allowed: set[str], reads: set[str] | None = None, writes: set[str] | None = None) -> Access:
    return Access(frozenset(allowed), frozenset(reads or ()), frozenset(writes or ()))


PROJECT = {"admin", "member", "reader", "other", "appcred"}
READ_A = {"admin", "member", "reader", "appcred"}
CLASSES: dict[str, Access] = {
    # Versions, schemas and the like: no token needed.
    "public": _access(set(PERSONAS)),
    # Any valid token.
    "any": _access(set(PERSONAS)),
    # Any project-scoped caller, acting on its own project (lists filter to it).
    "project": _access(PROJECT, reads={"system_reader", "domain_admin"}),
    # Project A's resources: read by A's readers, written by A's members.
    "read_a": _access(READ_A, reads={"system_reader"}),
    "write_a": _access({"admin", "member"}),
    # Creating something in the caller's own project.
    "create": _access({"admin", "member", "other"}),
    # Operators only.
    "admin": _access({"admin"}, reads={"system_reader"}),
    # Things of one user (A's member): its keypairs, application credentials, credentials.
    "self": _access({"member"}, reads={"admin", "system_reader", "appcred"}, writes={"admin"}),
    # Identity: cloud-wide records that any domain or system reader may list.
    "id_read": _access({"admin", "system_reader"}, reads={"domain_admin"}),
    # Identity: records inside the domain the domain admin manages.
    "id_domain_read": _access({"admin", "system_reader", "domain_admin"}),
    "id_domain_write": _access({"admin", "domain_admin"}),
    # Identity: project A's own record (its members may read it).
    "id_project_a": _access(READ_A | {"system_reader"}),
    # Identity: A's member's own user record.
    "id_user_self": _access({"admin", "system_reader", "member", "appcred"}),
    # Keypairs and credentials belong to a user (any of its tokens, whatever the role), not to a project.
    "user_owned": _access({"member", "appcred"}, reads={"admin", "system_reader"}, writes={"admin"}),
    # Identity: the service catalog's records. Nubis lets any caller read them (the catalog is in every
    # token anyway); Keystone keeps them to readers of the system.
    "id_catalog": _access({"admin", "system_reader"}, reads={"member", "reader", "other", "domain_admin", "appcred"}),
    # Identity: A's member's trust to A's reader (its trustor and trustee read it; cloud readers too).
    "trust": _access({"admin", "system_reader", "member", "reader"}, reads={"appcred"}),
    # Image membership: the member project sees its own membership.
    "image_member_read": _access(READ_A, reads={"system_reader", "other"}),
    # Image membership answered by the member project (B), not the owner.
    "image_member_status": _access({"admin", "other"}, writes={"member"}),
}


def _name() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


@dataclasses.dataclass(frozen=True)
class Row:
    service: str
    method: str
    template: str
    access: str
    body: Body = None
    params: dict[str, str] = dataclasses.field(default_factory=dict)  # param -> world id key (overrides)
    headers: Callable[[World, str], dict[str, str]] | None = None


def _rows(service: str, spec: str, bodies: dict[tuple[str, str], Body] | None = None) -> list[Row]:
    """Parse ``METHOD template class`` lines."""
    out = []
    for line in spec.strip().splitlines():
        method, template, access = line.split()
        out.append(Row(service, method, template, access, (bodies or {}).get((method, template))))
    return out


SERVER = {"server": {}}

COMPUTE = _rows("compute", """
GET / public
GET /v2.1 public
GET /v2 public
GET /v2.1/flavors project
POST /v2.1/flavors admin
GET /v2.1/flavors/detail project
GET /v2.1/flavors/{flavor_id} project
PUT /v2.1/flavors/{flavor_id} admin
DELETE /v2.1/flavors/{flavor_id} admin
GET /v2.1/flavors/{flavor_id}/os-extra_specs project
POST /v2.1/flavors/{flavor_id}/os-extra_specs admin
GET /v2.1/flavors/{flavor_id}/os-extra_specs/{key} project
PUT /v2.1/flavors/{flavor_id}/os-extra_specs/{key} admin
DELETE /v2.1/flavors/{flavor_id}/os-extra_specs/{key} admin
GET /v2.1/flavors/{flavor_id}/os-flavor-access admin
POST /v2.1/flavors/{flavor_id}/action admin
GET /v2.1/os-keypairs project
POST /v2.1/os-keypairs project
GET /v2.1/os-keypairs/{name} user_owned
DELETE /v2.1/os-keypairs/{name} user_owned
GET /v2.1/servers project
POST /v2.1/servers create
GET /v2.1/servers/detail project
GET /v2.1/servers/{server_id} read_a
PUT /v2.1/servers/{server_id} write_a
DELETE /v2.1/servers/{server_id} write_a
POST /v2.1/servers/{server_id}/action write_a
GET /v2.1/servers/{server_id}/os-instance-actions read_a
GET /v2.1/servers/{server_id}/os-instance-actions/{request_id} read_a
GET /v2.1/servers/{server_id}/os-server-password read_a
GET /v2.1/servers/{server_id}/diagnostics admin
DELETE /v2.1/servers/{server_id}/os-server-password write_a
GET /v2.1/servers/{server_id}/migrations admin
GET /v2.1/os-migrations admin
GET /v2.1/servers/{server_id}/metadata read_a
PUT /v2.1/servers/{server_id}/metadata write_a
POST /v2.1/servers/{server_id}/metadata write_a
GET /v2.1/servers/{server_id}/metadata/{key} read_a
PUT /v2.1/servers/{server_id}/metadata/{key} write_a
DELETE /v2.1/servers/{server_id}/metadata/{key} write_a
GET /v2.1/servers/{server_id}/tags read_a
PUT /v2.1/servers/{server_id}/tags write_a
DELETE /v2.1/servers/{server_id}/tags write_a
GET /v2.1/servers/{server_id}/tags/{tag} read_a
PUT /v2.1/servers/{server_id}/tags/{tag} write_a
DELETE /v2.1/servers/{server_id}/tags/{tag} write_a
GET /v2.1/servers/{server_id}/os-volume_attachments read_a
POST /v2.1/servers/{server_id}/os-volume_attachments write_a
GET /v2.1/servers/{server_id}/os-volume_attachments/{volume_id} read_a
DELETE /v2.1/servers/{server_id}/os-volume_attachments/{volume_id} write_a
PUT /v2.1/servers/{server_id}/os-volume_attachments/{volume_id} write_a
GET /v2.1/servers/{server_id}/os-interface read_a
GET /v2.1/servers/{server_id}/ips read_a
GET /v2.1/servers/{server_id}/ips/{network_label} read_a
POST /v2.1/servers/{server_id}/os-interface write_a
POST /v2.1/os-server-external-events admin
GET /v2.1/os-server-groups project
POST /v2.1/os-server-groups create
GET /v2.1/os-server-groups/{group_id} read_a
DELETE /v2.1/os-server-groups/{group_id} write_a
GET /v2.1/os-services admin
PUT /v2.1/os-services/{service_id} admin
DELETE /v2.1/os-services/{service_id} admin
GET /v2.1/os-hypervisors admin
GET /v2.1/os-hypervisors/detail admin
GET /v2.1/os-hypervisors/{hypervisor_id} admin
GET /v2.1/os-hypervisors/{hypervisor_id}/uptime admin
GET /v2.1/os-hypervisors/statistics admin
GET /v2.1/os-hypervisors/{pattern}/search admin
GET /v2.1/os-hypervisors/{pattern}/servers admin
GET /v2.1/os-hosts admin
GET /v2.1/os-hosts/{host_name} admin
PUT /v2.1/os-hosts/{host_name} admin
GET /v2.1/os-instance_usage_audit_log admin
GET /v2.1/os-instance_usage_audit_log/{before_timestamp} admin
GET /v2.1/extensions project
GET /v2.1/extensions/{alias} project
GET /v2.1/limits project
GET /v2.1/os-quota-sets/{project_id} read_a
PUT /v2.1/os-quota-sets/{project_id} admin
DELETE /v2.1/os-quota-sets/{project_id} admin
GET /v2.1/os-quota-sets/{project_id}/detail read_a
GET /v2.1/os-quota-sets/{project_id}/defaults project
GET /v2.1/os-quota-class-sets/{class_name} admin
PUT /v2.1/os-quota-class-sets/{class_name} admin
GET /v2.1/os-simple-tenant-usage admin
GET /v2.1/os-simple-tenant-usage/{project_id} read_a
GET /v2.1/os-aggregates admin
POST /v2.1/os-aggregates admin
GET /v2.1/os-aggregates/{aggregate_id} admin
PUT /v2.1/os-aggregates/{aggregate_id} admin
DELETE /v2.1/os-aggregates/{aggregate_id} admin
POST /v2.1/os-aggregates/{aggregate_id}/action admin
GET /v2.1/os-availability-zone project
GET /v2.1/os-availability-zone/detail admin
POST /v2.1/scheduler/explain admin
""", {
    ("POST", "/v2.1/flavors"): lambda w: {"flavor": {"name": _name(), "ram": 64, "vcpus": 1, "disk": 1}},
    ("PUT", "/v2.1/flavors/{flavor_id}"): lambda w: {"flavor": {"description": "changed"}},
    ("POST", "/v2.1/flavors/{flavor_id}/os-extra_specs"): lambda w: {"extra_specs": {"hw:mem_page_size": "small"}},
    ("PUT", "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}"): lambda w: {"hw:numa_nodes": "2"},
    ("POST", "/v2.1/flavors/{flavor_id}/action"): lambda w: {"addTenantAccess": {"tenant": w.ids["project_b"]}},
    ("POST", "/v2.1/os-keypairs"): lambda w: {"keypair": {"name": _name()}},
    ("POST", "/v2.1/servers"): lambda w: {"server": {"name": _name(), "imageRef": w.ids["public_image"],
                                                     "flavorRef": w.ids["flavor"], "networks": "none"}},
    ("PUT", "/v2.1/servers/{server_id}"): lambda w: {"server": {"name": _name()}},
    ("POST", "/v2.1/servers/{server_id}/action"): lambda w: {"os-stop": None},
    ("PUT", "/v2.1/servers/{server_id}/metadata"): lambda w: {"metadata": {"size": "big"}},
    ("POST", "/v2.1/servers/{server_id}/metadata"): lambda w: {"metadata": {"size": "big"}},
    ("PUT", "/v2.1/servers/{server_id}/metadata/{key}"): lambda w: {"meta": {"color": "red"}},
    ("PUT", "/v2.1/servers/{server_id}/tags"): lambda w: {"tags": ["red"]},
    ("POST", "/v2.1/servers/{server_id}/os-interface"): lambda w: {"interfaceAttachment": {
        "net_id": w.ids["network"]}},
    ("POST", "/v2.1/os-server-external-events"): lambda w: {"events": [{
        "name": "network-changed", "server_uuid": w.ids["server"]}]},
    ("POST", "/v2.1/os-server-groups"): lambda w: {"server_group": {"name": _name(), "policies": ["affinity"]}},
    ("PUT", "/v2.1/os-services/{service_id}"): lambda w: {"status": "disabled"},
    ("PUT", "/v2.1/os-hosts/{host_name}"): lambda w: {"status": "enable"},
    ("PUT", "/v2.1/os-quota-sets/{project_id}"): lambda w: {"quota_set": {"instances": 3}},
    ("PUT", "/v2.1/os-quota-class-sets/{class_name}"): lambda w: {"quota_class_set": {"instances": 30}},
    ("POST", "/v2.1/os-aggregates"): lambda w: {"aggregate": {"name": _name()}},
    ("POST", "/v2.1/scheduler/explain"): lambda w: {"flavor": {"vcpus": 1, "memory_mb": 64}},
    ("PUT", "/v2.1/os-aggregates/{aggregate_id}"): lambda w: {"aggregate": {"name": _name()}},
    ("POST", "/v2.1/os-aggregates/{aggregate_id}/action"): lambda w: {"set_metadata": {"metadata": {"k": "v"}}},
})

NETWORK_FIXED = _rows("network", """
GET / public
GET /v2.0 any
GET /v2.0/extensions any
GET /v2.0/extensions/{alias} any
GET /v2.0/network-ip-availabilities admin
GET /v2.0/network-ip-availabilities/{network_id} admin
GET /v2.0/ip-allocation-history admin
GET /v2.0/quotas admin
GET /v2.0/quotas/{project_id}/default read_a
GET /v2.0/quotas/{project_id}/details.json read_a
GET /v2.0/quotas/{project_id}/details read_a
GET /v2.0/quotas/{project_id} read_a
PUT /v2.0/quotas/{project_id} admin
DELETE /v2.0/quotas/{project_id} admin
GET /v2.0/agents project
GET /v2.0/agents/{ident} admin
PUT /v2.0/agents/{ident} admin
DELETE /v2.0/agents/{ident} admin
PUT /v2.0/routers/{ident}/add_router_interface write_a
PUT /v2.0/routers/{ident}/remove_router_interface write_a
PUT /v2.0/routers/{ident}/add_extraroutes write_a
PUT /v2.0/routers/{ident}/remove_extraroutes write_a
GET /v2.0/availability_zones project
GET /v2.0/service-providers project
GET /v2.0/metering/metering-labels project
POST /v2.0/metering/metering-labels admin
GET /v2.0/metering/metering-labels/{ident} admin
DELETE /v2.0/metering/metering-labels/{ident} admin
GET /v2.0/metering/metering-label-rules project
POST /v2.0/metering/metering-label-rules admin
GET /v2.0/metering/metering-label-rules/{ident} admin
DELETE /v2.0/metering/metering-label-rules/{ident} admin
""", {
    ("PUT", "/v2.0/quotas/{project_id}"): lambda w: {"quota": {"network": 3}},
    ("PUT", "/v2.0/agents/{ident}"): lambda w: {"agent": {"admin_state_up": False}},
    ("PUT", "/v2.0/routers/{ident}/add_router_interface"): lambda w: {"subnet_id": w.ids["subnet"]},
    ("PUT", "/v2.0/routers/{ident}/remove_router_interface"): lambda w: {"subnet_id": w.ids["subnet"]},
    ("PUT", "/v2.0/routers/{ident}/add_extraroutes"): lambda w: {"router": {"routes": []}},
    ("PUT", "/v2.0/routers/{ident}/remove_extraroutes"): lambda w: {"router": {"routes": []}},
    ("POST", "/v2.0/metering/metering-labels"): lambda w: {"metering_label": {"name": _name()}},
    ("POST", "/v2.0/metering/metering-label-rules"): lambda w: {"metering_label_rule": {
        "metering_label_id": w.ids["metering_label"], "remote_ip_prefix": "10.1.0.0/24"}},
})
NETWORK_FIXED_PARAMS = {"/v2.0/agents/{ident}": "agent", "/v2.0/routers/{ident}/add_router_interface": "router",
                        "/v2.0/routers/{ident}/remove_router_interface": "router",
                        "/v2.0/routers/{ident}/add_extraroutes": "router",
                        "/v2.0/routers/{ident}/remove_extraroutes": "router",
                        "/v2.0/metering/metering-labels/{ident}": "metering_label",
                        "/v2.0/metering/metering-label-rules/{ident}": "metering_label_rule"}

# QoS (Neutron's defaults): policies and rules are the admin's to change; A's readers read A's policy.
QOS_RULE_BODIES: dict[str, dict[str, Any]] = {"bandwidth_limit": {"max_kbps": 2000, "direction": "ingress"},
                                              "dscp_marking": {"dscp_mark": 16},
                                              "minimum_bandwidth": {"min_kbps": 200, "direction": "ingress"}}


def _qos_rows() -> list[Row]:
    policy = {"ident": "qos_policy", "policy_id": "qos_policy"}
    rows = [
        Row("network", "GET", "/v2.0/qos/rule-types", "project"),
        Row("network", "GET", "/v2.0/qos/rule-types/{rule_type}", "admin", None, {"rule_type": "=bandwidth_limit"}),
        Row("network", "GET", "/v2.0/qos/policies", "project"),
        Row("network", "POST", "/v2.0/qos/policies", "admin", lambda w: {"policy": {"name": _name()}}),
        Row("network", "GET", "/v2.0/qos/policies/{ident}", "read_a", None, policy),
        Row("network", "PUT", "/v2.0/qos/policies/{ident}", "admin", lambda w: {"policy": {"description": "x"}},
            policy),
        Row("network", "DELETE", "/v2.0/qos/policies/{ident}", "admin", None, policy),
    ]
    for kind, rule in QOS_RULE_BODIES.items():
        base = f"/v2.0/qos/policies/{{policy_id}}/{kind}_rules"
        item = {**policy, "rule_id": f"qos_{kind}_rule"}
        body: Body = (lambda k, r: lambda w: {f"{k}_rule": r})(kind, rule)
        rows += [Row("network", "GET", base, "read_a", None, policy),
                 Row("network", "POST", base, "admin", body, policy),
                 Row("network", "GET", base + "/{rule_id}", "read_a", None, item),
                 Row("network", "PUT", base + "/{rule_id}", "admin", body, item),
                 Row("network", "DELETE", base + "/{rule_id}", "admin", None, item)]
    return rows


# Collections served by the generic /v2.0/{collection} routes: (id key in the world, singular, create body).
NETWORK_COLLECTIONS: dict[str, tuple[str, str, Callable[[World], dict[str, Any]], str]] = {
    "networks": ("network", "network", lambda w: {"name": _name()}, "create"),
    "subnets": ("subnet", "subnet", lambda w: {"network_id": w.ids["network"], "cidr": "10.78.0.0/24",
                                               "ip_version": 4}, "write_a"),
    "subnetpools": ("subnetpool", "subnetpool", lambda w: {"name": _name(), "prefixes": ["10.200.0.0/16"]},
                    "create"),
    "ports": ("port", "port", lambda w: {"network_id": w.ids["network"]}, "write_a"),
    "security-groups": ("security_group", "security_group", lambda w: {"name": _name()}, "create"),
    "security-group-rules": ("security_group_rule", "security_group_rule", lambda w: {
        "security_group_id": w.ids["security_group"], "direction": "ingress", "protocol": "udp",
        "port_range_min": 53, "port_range_max": 53}, "write_a"),
    "routers": ("router", "router", lambda w: {"name": _name()}, "create"),
    "floatingips": ("floatingip", "floatingip", lambda w: {"floating_network_id": w.ids["external_network"]},
                    "create"),
    "address-scopes": ("address_scope", "address_scope", lambda w: {"name": _name(), "ip_version": 4}, "create"),
    "rbac-policies": ("rbac_policy", "rbac_policy", lambda w: {
        "object_type": "network", "object_id": w.ids["network"], "action": "access_as_shared",
        "target_tenant": uuid.uuid4().hex}, "write_a"),
}


def _network_collection_rows() -> list[Row]:
    rows = []
    for collection, (key, singular, create, create_access) in NETWORK_COLLECTIONS.items():
        base = {"collection": f"={collection}"}
        item = {**base, "ident": key}
        changed = {"address-scopes": "name", "rbac-policies": "target_tenant"}.get(collection, "description")
        update: Body = (lambda s, f: lambda w: {s: {f: "changed"}})(singular, changed)
        rows += [
            Row("network", "GET", "/v2.0/{collection}", "project", None, base),
            Row("network", "POST", "/v2.0/{collection}", create_access,
                (lambda s, c: lambda w: {s: c(w)})(singular, create), base),
            Row("network", "GET", "/v2.0/{collection}/{ident}", "read_a", None, item),
            Row("network", "PUT", "/v2.0/{collection}/{ident}", "write_a", update, item),
            Row("network", "DELETE", "/v2.0/{collection}/{ident}", "write_a", None, item),
        ]
        if collection in ("networks", "ports", "routers"):
            tag = {**item, "tag": "=blue"}
            rows += [
                Row("network", "GET", "/v2.0/{collection}/{ident}/tags", "read_a", None, item),
                Row("network", "PUT", "/v2.0/{collection}/{ident}/tags", "write_a",
                    lambda w: {"tags": ["green"]}, item),
                Row("network", "DELETE", "/v2.0/{collection}/{ident}/tags", "write_a", None, item),
                Row("network", "GET", "/v2.0/{collection}/{ident}/tags/{tag}", "read_a", None, tag),
                Row("network", "PUT", "/v2.0/{collection}/{ident}/tags/{tag}", "write_a", None, tag),
                Row("network", "DELETE", "/v2.0/{collection}/{ident}/tags/{tag}", "write_a", None, tag),
            ]
    return rows


_MD_NS = "/v2/metadefs/namespaces/{namespace_name}"
IMAGE = _rows("image", """
GET / public
GET /versions public
GET /v2/images project
POST /v2/images create
GET /v2/images/{image_id} read_a
PATCH /v2/images/{image_id} write_a
DELETE /v2/images/{image_id} write_a
PUT /v2/images/{image_id}/file write_a
GET /v2/images/{image_id}/file read_a
GET /v2/images/{image_id}/tasks read_a
PUT /v2/images/{image_id}/stage write_a
POST /v2/images/{image_id}/import write_a
POST /v2/images/{image_id}/actions/deactivate write_a
POST /v2/images/{image_id}/actions/reactivate write_a
PUT /v2/images/{image_id}/tags/{tag} write_a
DELETE /v2/images/{image_id}/tags/{tag} write_a
GET /v2/images/{image_id}/members image_member_read
POST /v2/images/{image_id}/members write_a
GET /v2/images/{image_id}/members/{member_id} image_member_read
PUT /v2/images/{image_id}/members/{member_id} image_member_status
DELETE /v2/images/{image_id}/members/{member_id} write_a
GET /v2/tasks admin
POST /v2/tasks admin
GET /v2/tasks/{task_id} admin
GET /v2/cache admin
DELETE /v2/cache admin
PUT /v2/cache/{image_id} admin
DELETE /v2/cache/{image_id} admin
GET /v2/info/import any
GET /v2/info/stores any
GET /v2/schemas/task any
GET /v2/schemas/tasks any
GET /v2/schemas/image any
GET /v2/schemas/images any
GET /v2/schemas/member any
GET /v2/schemas/members any
GET /v2/metadefs/namespaces project
POST /v2/metadefs/namespaces admin
GET /v2/metadefs/namespaces/{namespace_name} read_a
PUT /v2/metadefs/namespaces/{namespace_name} admin
DELETE /v2/metadefs/namespaces/{namespace_name} admin
GET /v2/metadefs/namespaces/{namespace_name}/objects read_a
POST /v2/metadefs/namespaces/{namespace_name}/objects admin
DELETE /v2/metadefs/namespaces/{namespace_name}/objects admin
GET /v2/metadefs/namespaces/{namespace_name}/objects/{object_name} read_a
PUT /v2/metadefs/namespaces/{namespace_name}/objects/{object_name} admin
DELETE /v2/metadefs/namespaces/{namespace_name}/objects/{object_name} admin
GET /v2/metadefs/namespaces/{namespace_name}/properties read_a
POST /v2/metadefs/namespaces/{namespace_name}/properties admin
DELETE /v2/metadefs/namespaces/{namespace_name}/properties admin
GET /v2/metadefs/namespaces/{namespace_name}/properties/{property_name} read_a
PUT /v2/metadefs/namespaces/{namespace_name}/properties/{property_name} admin
DELETE /v2/metadefs/namespaces/{namespace_name}/properties/{property_name} admin
GET /v2/metadefs/namespaces/{namespace_name}/tags read_a
POST /v2/metadefs/namespaces/{namespace_name}/tags admin
DELETE /v2/metadefs/namespaces/{namespace_name}/tags admin
GET /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name} read_a
POST /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name} admin
PUT /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name} admin
DELETE /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name} admin
GET /v2/metadefs/resource_types project
GET /v2/metadefs/namespaces/{namespace_name}/resource_types read_a
POST /v2/metadefs/namespaces/{namespace_name}/resource_types admin
DELETE /v2/metadefs/namespaces/{namespace_name}/resource_types/{resource_type_name} admin
GET /v2/schemas/metadefs/namespace any
GET /v2/schemas/metadefs/namespaces any
GET /v2/schemas/metadefs/object any
GET /v2/schemas/metadefs/objects any
GET /v2/schemas/metadefs/property any
GET /v2/schemas/metadefs/properties any
GET /v2/schemas/metadefs/tag any
GET /v2/schemas/metadefs/tags any
GET /v2/schemas/metadefs/resource_type any
GET /v2/schemas/metadefs/resource_types any
""", {
    ("POST", "/v2/images"): lambda w: {"name": _name(), "disk_format": "raw", "container_format": "bare"},
    ("PATCH", "/v2/images/{image_id}"): lambda w: [{"op": "replace", "path": "/name", "value": _name()}],
    ("POST", "/v2/images/{image_id}/import"): lambda w: {"method": {"name": "glance-direct"}},
    # An import task from a port nothing listens on: it would fail (only admins get past the policy).
    ("POST", "/v2/tasks"): lambda w: {"type": "import", "input": {
        "import_from": "http://127.0.0.1:9/probe.raw", "import_from_format": "raw",
        "image_properties": {"name": _name(), "disk_format": "raw", "container_format": "bare"}}},
    ("POST", "/v2/images/{image_id}/members"): lambda w: {"member": w.ids["project_in_domain"]},
    ("PUT", "/v2/images/{image_id}/members/{member_id}"): lambda w: {"status": "accepted"},
    # The metadata definitions catalog: project A's private namespace (world.py) and what it holds.
    ("POST", "/v2/metadefs/namespaces"): lambda w: {"namespace": f"OS::Probe::{_name()}"},
    ("PUT", _MD_NS): lambda w: {"namespace": w.ids["metadef_namespace"], "visibility": "private",
                                "owner": w.ids["project_a"]},
    ("POST", _MD_NS + "/objects"): lambda w: {"name": _name()},
    ("PUT", _MD_NS + "/objects/{object_name}"): lambda w: {"name": "probe-object"},
    ("POST", _MD_NS + "/properties"): lambda w: {"name": _name(), "title": "Probe", "type": "string"},
    ("PUT", _MD_NS + "/properties/{property_name}"): lambda w: {"name": "probe_property", "title": "Probe",
                                                                "type": "string"},
    ("POST", _MD_NS + "/tags"): lambda w: {"tags": [{"name": _name()}]},
    ("PUT", _MD_NS + "/tags/{tag_name}"): lambda w: {"name": "probe-tag"},
    ("POST", _MD_NS + "/resource_types"): lambda w: {"name": "OS::Nova::Flavor"},
})
IMAGE_MEMBER_ROUTES = ("/v2/images/{image_id}/members", "/v2/images/{image_id}/members/{member_id}")

PLACEMENT = _rows("placement", """
GET / public
GET /resource_providers admin
POST /resource_providers admin
GET /resource_providers/{uuid} admin
PUT /resource_providers/{uuid} admin
DELETE /resource_providers/{uuid} admin
GET /resource_providers/{uuid}/inventories admin
PUT /resource_providers/{uuid}/inventories admin
POST /resource_providers/{uuid}/inventories admin
DELETE /resource_providers/{uuid}/inventories admin
GET /resource_providers/{uuid}/inventories/{resource_class} admin
PUT /resource_providers/{uuid}/inventories/{resource_class} admin
DELETE /resource_providers/{uuid}/inventories/{resource_class} admin
GET /resource_providers/{uuid}/traits admin
PUT /resource_providers/{uuid}/traits admin
DELETE /resource_providers/{uuid}/traits admin
GET /resource_providers/{uuid}/aggregates admin
PUT /resource_providers/{uuid}/aggregates admin
GET /resource_providers/{uuid}/usages admin
GET /resource_providers/{uuid}/allocations admin
POST /allocations admin
GET /allocations/{consumer_uuid} admin
PUT /allocations/{consumer_uuid} admin
DELETE /allocations/{consumer_uuid} admin
GET /allocation_candidates admin
GET /usages admin
GET /resource_classes admin
POST /resource_classes admin
GET /resource_classes/{name} admin
PUT /resource_classes/{name} admin
DELETE /resource_classes/{name} admin
GET /traits admin
GET /traits/{name} admin
PUT /traits/{name} admin
DELETE /traits/{name} admin
""", {
    ("POST", "/resource_providers"): lambda w: {"name": _name()},
    ("POST", "/resource_classes"): lambda w: {"name": "CUSTOM_" + _name().upper().replace("-", "_")},
})

FEDERATION_RULES = [{"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "REMOTE_USER"}]}]
IDENTITY = _rows("identity", """
GET / public
GET /v3 public
POST /v3/auth/tokens public
GET /v3/auth/tokens any
HEAD /v3/auth/tokens any
DELETE /v3/auth/tokens any
GET /v3/auth/catalog any
GET /v3/auth/projects any
GET /v3/auth/domains any
GET /v3/auth/system any
GET /v3/domains id_read
POST /v3/domains admin
GET /v3/domains/{domain_id} id_domain_read
PATCH /v3/domains/{domain_id} admin
DELETE /v3/domains/{domain_id} admin
GET /v3/projects id_read
POST /v3/projects id_domain_write
GET /v3/projects/{project_id} id_project_a
PATCH /v3/projects/{project_id} admin
DELETE /v3/projects/{project_id} admin
GET /v3/projects/{project_id}/tags id_project_a
PUT /v3/projects/{project_id}/tags admin
DELETE /v3/projects/{project_id}/tags admin
GET /v3/projects/{project_id}/tags/{tag} id_project_a
PUT /v3/projects/{project_id}/tags/{tag} admin
DELETE /v3/projects/{project_id}/tags/{tag} admin
GET /v3/users id_read
POST /v3/users id_domain_write
GET /v3/users/{user_id} id_user_self
PATCH /v3/users/{user_id} admin
DELETE /v3/users/{user_id} admin
POST /v3/users/{user_id}/password public
GET /v3/users/{user_id}/groups id_user_self
GET /v3/users/{user_id}/projects id_user_self
GET /v3/users/{user_id}/application_credentials self
POST /v3/users/{user_id}/application_credentials self
GET /v3/users/{user_id}/application_credentials/{app_cred_id} self
DELETE /v3/users/{user_id}/application_credentials/{app_cred_id} self
GET /v3/users/{user_id}/access_rules self
GET /v3/users/{user_id}/access_rules/{access_rule_id} self
DELETE /v3/users/{user_id}/access_rules/{access_rule_id} self
GET /v3/groups id_read
POST /v3/groups id_domain_write
GET /v3/groups/{group_id} id_domain_read
PATCH /v3/groups/{group_id} id_domain_write
DELETE /v3/groups/{group_id} id_domain_write
GET /v3/groups/{group_id}/users id_domain_read
PUT /v3/groups/{group_id}/users/{user_id} id_domain_write
HEAD /v3/groups/{group_id}/users/{user_id} id_domain_read
GET /v3/groups/{group_id}/users/{user_id} id_domain_read
DELETE /v3/groups/{group_id}/users/{user_id} id_domain_write
GET /v3/roles id_read
POST /v3/roles admin
GET /v3/roles/{role_id} id_read
PATCH /v3/roles/{role_id} admin
DELETE /v3/roles/{role_id} admin
GET /v3/roles/{prior_role_id}/implies id_read
PUT /v3/roles/{prior_role_id}/implies/{implied_role_id} admin
GET /v3/roles/{prior_role_id}/implies/{implied_role_id} id_read
HEAD /v3/roles/{prior_role_id}/implies/{implied_role_id} id_read
DELETE /v3/roles/{prior_role_id}/implies/{implied_role_id} admin
GET /v3/role_inferences id_read
GET /v3/role_assignments id_read
GET /v3/regions any
POST /v3/regions admin
GET /v3/regions/{region_id} any
PATCH /v3/regions/{region_id} admin
DELETE /v3/regions/{region_id} admin
PUT /v3/regions/{region_id} admin
GET /v3/services id_catalog
POST /v3/services admin
GET /v3/services/{service_id} id_catalog
PATCH /v3/services/{service_id} admin
DELETE /v3/services/{service_id} admin
GET /v3/endpoints id_catalog
POST /v3/endpoints admin
GET /v3/endpoints/{endpoint_id} id_catalog
PATCH /v3/endpoints/{endpoint_id} admin
DELETE /v3/endpoints/{endpoint_id} admin
GET /v3/credentials project
POST /v3/credentials user_owned
GET /v3/credentials/{credential_id} user_owned
PATCH /v3/credentials/{credential_id} user_owned
DELETE /v3/credentials/{credential_id} user_owned
GET /v3/users/{user_id}/credentials/OS-EC2 user_owned
POST /v3/users/{user_id}/credentials/OS-EC2 user_owned
POST /v3/OS-TRUST/trusts self
GET /v3/OS-TRUST/trusts admin
GET /v3/OS-TRUST/trusts/{trust_id} trust
DELETE /v3/OS-TRUST/trusts/{trust_id} self
GET /v3/OS-TRUST/trusts/{trust_id}/roles trust
GET /v3/OS-TRUST/trusts/{trust_id}/roles/{role_id} trust
HEAD /v3/OS-TRUST/trusts/{trust_id}/roles/{role_id} trust
GET /v3/limits/model any
GET /v3/registered_limits any
POST /v3/registered_limits admin
GET /v3/registered_limits/{registered_limit_id} any
PATCH /v3/registered_limits/{registered_limit_id} admin
DELETE /v3/registered_limits/{registered_limit_id} admin
GET /v3/limits any
POST /v3/limits admin
GET /v3/limits/{limit_id} read_a
PATCH /v3/limits/{limit_id} admin
DELETE /v3/limits/{limit_id} admin
GET /v3/OS-EP-FILTER/endpoint_groups id_read
POST /v3/OS-EP-FILTER/endpoint_groups admin
GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id} id_read
HEAD /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id} id_read
PATCH /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id} admin
DELETE /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id} admin
GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/endpoints id_read
GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects id_read
PUT /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id} admin
GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id} id_read
HEAD /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id} id_read
DELETE /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id} admin
GET /v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups id_read
GET /v3/OS-EP-FILTER/projects/{project_id}/endpoints id_read
PUT /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id} admin
HEAD /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id} id_read
DELETE /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id} admin
GET /v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects id_read
GET /v3/domains/{domain_id}/config id_read
PUT /v3/domains/{domain_id}/config admin
PATCH /v3/domains/{domain_id}/config admin
DELETE /v3/domains/{domain_id}/config admin
GET /v3/domains/{domain_id}/config/{group} id_read
PATCH /v3/domains/{domain_id}/config/{group} admin
DELETE /v3/domains/{domain_id}/config/{group} admin
GET /v3/domains/{domain_id}/config/{group}/{option} id_read
PATCH /v3/domains/{domain_id}/config/{group}/{option} admin
DELETE /v3/domains/{domain_id}/config/{group}/{option} admin
GET /v3/domains/config/default id_read
GET /v3/domains/config/{group}/default id_read
GET /v3/domains/config/{group}/{option}/default id_read
GET /v3/OS-FEDERATION/identity_providers id_read
PUT /v3/OS-FEDERATION/identity_providers/{idp_id} admin
GET /v3/OS-FEDERATION/identity_providers/{idp_id} id_read
PATCH /v3/OS-FEDERATION/identity_providers/{idp_id} admin
DELETE /v3/OS-FEDERATION/identity_providers/{idp_id} admin
GET /v3/OS-FEDERATION/mappings id_read
PUT /v3/OS-FEDERATION/mappings/{mapping_id} admin
GET /v3/OS-FEDERATION/mappings/{mapping_id} id_read
PATCH /v3/OS-FEDERATION/mappings/{mapping_id} admin
DELETE /v3/OS-FEDERATION/mappings/{mapping_id} admin
GET /v3/OS-FEDERATION/service_providers id_read
PUT /v3/OS-FEDERATION/service_providers/{sp_id} admin
GET /v3/OS-FEDERATION/service_providers/{sp_id} id_read
PATCH /v3/OS-FEDERATION/service_providers/{sp_id} admin
DELETE /v3/OS-FEDERATION/service_providers/{sp_id} admin
GET /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols id_read
PUT /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id} admin
GET /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id} id_read
PATCH /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id} admin
DELETE /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id} admin
GET /v3/policies id_read
POST /v3/policies admin
GET /v3/policies/{policy_id} id_read
PATCH /v3/policies/{policy_id} admin
DELETE /v3/policies/{policy_id} admin
GET /v3/OS-OAUTH1/consumers id_read
POST /v3/OS-OAUTH1/consumers admin
GET /v3/OS-OAUTH1/consumers/{consumer_id} id_read
PATCH /v3/OS-OAUTH1/consumers/{consumer_id} admin
DELETE /v3/OS-OAUTH1/consumers/{consumer_id} admin
POST /v3/OS-OAUTH1/request_token public
POST /v3/OS-OAUTH1/access_token public
PUT /v3/OS-OAUTH1/authorize/{request_token_id} admin
GET /v3/users/{user_id}/OS-OAUTH1/access_tokens admin
GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id} admin
DELETE /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id} admin
GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles admin
GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles/{role_id} admin
""", {
    ("POST", "/v3/domains"): lambda w: {"domain": {"name": _name()}},
    ("PATCH", "/v3/domains/{domain_id}"): lambda w: {"domain": {"description": "changed"}},
    ("POST", "/v3/projects"): lambda w: {"project": {"name": _name(), "domain_id": w.ids["domain"]}},
    ("PATCH", "/v3/projects/{project_id}"): lambda w: {"project": {"description": "changed"}},
    ("PUT", "/v3/projects/{project_id}/tags"): lambda w: {"tags": ["red"]},
    ("POST", "/v3/users"): lambda w: {"user": {"name": _name(), "domain_id": w.ids["domain"]}},
    ("PATCH", "/v3/users/{user_id}"): lambda w: {"user": {"description": "changed"}},
    ("POST", "/v3/users/{user_id}/application_credentials"): lambda w: {"application_credential": {
        "name": _name()}},
    ("POST", "/v3/groups"): lambda w: {"group": {"name": _name(), "domain_id": w.ids["domain"]}},
    ("PATCH", "/v3/groups/{group_id}"): lambda w: {"group": {"description": "changed"}},
    ("POST", "/v3/roles"): lambda w: {"role": {"name": _name()}},
    ("PATCH", "/v3/roles/{role_id}"): lambda w: {"role": {"description": "changed"}},
    ("POST", "/v3/regions"): lambda w: {"region": {"id": _name()}},
    ("PATCH", "/v3/regions/{region_id}"): lambda w: {"region": {"description": "changed"}},
    ("PUT", "/v3/regions/{region_id}"): lambda w: {"region": {"description": "changed"}},
    ("POST", "/v3/services"): lambda w: {"service": {"type": _name(), "name": _name()}},
    ("PATCH", "/v3/services/{service_id}"): lambda w: {"service": {"description": "changed"}},
    ("POST", "/v3/endpoints"): lambda w: {"endpoint": {"service_id": w.ids["service"], "interface": "internal",
                                                       "url": "http://127.0.0.1:1/x", "region_id": "RegionOne"}},
    ("PATCH", "/v3/endpoints/{endpoint_id}"): lambda w: {"endpoint": {"url": "http://127.0.0.1:2/x"}},
    ("POST", "/v3/credentials"): lambda w: {"credential": {"type": "cert", "user_id": w.ids["user_member"],
                                                           "blob": "x"}},
    ("PATCH", "/v3/credentials/{credential_id}"): lambda w: {"credential": {"blob": "y"}},
    ("POST", "/v3/users/{user_id}/credentials/OS-EC2"): lambda w: {"tenant_id": w.ids["project_a"]},
    ("POST", "/v3/OS-TRUST/trusts"): lambda w: {"trust": {
        "trustor_user_id": w.ids["user_member"], "trustee_user_id": w.ids["user_reader"],
        "project_id": w.ids["project_a"], "impersonation": False, "roles": [{"name": "reader"}]}},
    ("POST", "/v3/registered_limits"): lambda w: {"registered_limits": [{
        "service_id": w.ids["service"], "resource_name": _name(), "default_limit": 1}]},
    ("PATCH", "/v3/registered_limits/{registered_limit_id}"): lambda w: {"registered_limit": {"default_limit": 2}},
    ("POST", "/v3/limits"): lambda w: {"limits": [{
        "service_id": w.ids["service"], "project_id": w.ids["project_b"], "resource_name": w.ids["limit_resource"],
        "resource_limit": 1}]},
    ("PATCH", "/v3/limits/{limit_id}"): lambda w: {"limit": {"resource_limit": 2}},
    ("POST", "/v3/OS-EP-FILTER/endpoint_groups"): lambda w: {"endpoint_group": {
        "name": _name(), "filters": {"interface": "public"}}},
    ("PATCH", "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}"): lambda w: {"endpoint_group": {
        "description": "changed"}},
    ("PUT", "/v3/domains/{domain_id}/config"): lambda w: {"config": {"identity": {"driver": "sql"}}},
    ("PATCH", "/v3/domains/{domain_id}/config"): lambda w: {"config": {"identity": {"driver": "sql"}}},
    ("PATCH", "/v3/domains/{domain_id}/config/{group}"): lambda w: {"config": {"identity": {"driver": "sql"}}},
    ("PATCH", "/v3/domains/{domain_id}/config/{group}/{option}"): lambda w: {"config": {"driver": "sql"}},
    ("PUT", "/v3/OS-FEDERATION/identity_providers/{idp_id}"): lambda w: {"identity_provider": {
        "domain_id": w.ids["domain"]}},
    ("PATCH", "/v3/OS-FEDERATION/identity_providers/{idp_id}"): lambda w: {"identity_provider": {
        "description": "changed"}},
    ("PUT", "/v3/OS-FEDERATION/mappings/{mapping_id}"): lambda w: {"mapping": {"rules": FEDERATION_RULES}},
    ("PATCH", "/v3/OS-FEDERATION/mappings/{mapping_id}"): lambda w: {"mapping": {"rules": FEDERATION_RULES}},
    ("PUT", "/v3/OS-FEDERATION/service_providers/{sp_id}"): lambda w: {"service_provider": {
        "auth_url": "https://sp.example/v3", "sp_url": "https://sp.example/Shibboleth.sso/SAML2/ECP"}},
    ("PATCH", "/v3/OS-FEDERATION/service_providers/{sp_id}"): lambda w: {"service_provider": {"enabled": True}},
    ("PUT", "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}"): lambda w: {"protocol": {
        "mapping_id": w.ids["mapping"]}},
    ("PATCH", "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}"): lambda w: {"protocol": {
        "mapping_id": w.ids["mapping"]}},
    ("POST", "/v3/policies"): lambda w: {"policy": {"type": "application/json", "blob": "{}"}},
    ("PATCH", "/v3/policies/{policy_id}"): lambda w: {"policy": {"blob": "{\"a\": 1}"}},
    ("POST", "/v3/OS-OAUTH1/consumers"): lambda w: {"consumer": {"description": "probe"}},
    ("PATCH", "/v3/OS-OAUTH1/consumers/{consumer_id}"): lambda w: {"consumer": {"description": "changed"}},
    ("PUT", "/v3/OS-OAUTH1/authorize/{request_token_id}"): lambda w: {"roles": [{"name": "reader"}]},
})
# OS-EC2 names a credential by its access key, not its id.
IDENTITY_EC2 = [Row("identity", method, "/v3/users/{user_id}/credentials/OS-EC2/{credential_id}", "user_owned",
                    None, {"credential_id": "ec2_access"}) for method in ("GET", "DELETE")]
IDENTITY_PARAMS = {"domain_id": "domain", "project_id": "project_a", "user_id": "user_member", "group_id": "group",
                   "role_id": "role_reader", "prior_role_id": "role_reader", "implied_role_id": "role_reader",
                   "app_cred_id": "app_cred", "access_rule_id": "access_rule", "credential_id": "credential", "region_id": "region",
                   "service_id": "service", "endpoint_id": "endpoint", "tag": "=blue", "policy_id": "policy",
                   "trust_id": "trust", "registered_limit_id": "registered_limit", "limit_id": "limit",
                   "endpoint_group_id": "endpoint_group", "group": "=identity", "option": "=driver",
                   "idp_id": "idp", "mapping_id": "mapping", "sp_id": "sp", "protocol_id": "=saml2",
                   # OS-OAUTH1: a real consumer; request and access tokens that do not exist (an admin's call
                   # is let through with a 404, the others are refused before the lookup).
                   "consumer_id": "oauth_consumer", "request_token_id": "=" + "0" * 32,
                   "access_token_id": "=" + "0" * 32}


def _grant_rows() -> list[Row]:
    """Role grants on projects, domains and the system, for users and groups."""
    rows = []
    targets = {
        # A's project: only cloud admins grant there (A lives in the default domain).
        "/v3/projects/{project_id}": ("admin", "id_read", {"project_id": "project_a"}),
        "/v3/OS-INHERIT/projects/{project_id}": ("admin", "id_read", {"project_id": "project_a"}),
        # The domain admin's own domain, with a user and group of that domain.
        "/v3/domains/{domain_id}": ("id_domain_write", "id_domain_read", {"domain_id": "domain"}),
        "/v3/OS-INHERIT/domains/{domain_id}": ("id_domain_write", "id_domain_read", {"domain_id": "domain"}),
        "/v3/system": ("admin", "id_read", {}),
    }
    for prefix, (write, read, params) in targets.items():
        for actor, actor_param, actor_key in (("users", "user_id", "user_in_domain"), ("groups", "group_id", "group")):
            suffix = "/inherited_to_projects" if "OS-INHERIT" in prefix else ""
            base = f"{prefix}/{actor}/{{{actor_param}}}/roles"
            p = {**params, actor_param: actor_key, "role_id": "role_reader"}
            rows.append(Row("identity", "GET", base + suffix, read, None, p))
            item = base + "/{role_id}" + suffix
            rows += [Row("identity", "PUT", item, write, None, p), Row("identity", "HEAD", item, read, None, p),
                     Row("identity", "GET", item, read, None, p), Row("identity", "DELETE", item, write, None, p)]
    return rows


COMPUTE_PARAMS = {"flavor_id": "flavor", "key": "=hw:numa_nodes", "name": "keypair", "server_id": "server",
                  "group_id": "server_group", "service_id": "compute_service", "hypervisor_id": "hypervisor",
                  "project_id": "project_a", "class_name": "=default", "aggregate_id": "aggregate", "tag": "=blue",
                  "host_name": "compute_host", "pattern": "compute_host", "before_timestamp": "=2026-11-01T00:00:00",
                  "alias": "=os-keypairs", "request_id": "server_action",
                  "network_label": "=private", "volume_id": "=6c3a5b4e-0d1f-4b8a-9e2c-7f1d0a9b8c7d"}
METADATA_KEY = "=color"
NETWORK_PARAMS = {"alias": "=router", "network_id": "network", "project_id": "project_a", "tag": "=blue"}
IMAGE_PARAMS = {"image_id": "private_image", "tag": "=blue", "member_id": "project_b",
                "namespace_name": "metadef_namespace", "object_name": "=probe-object",
                "property_name": "=probe_property", "tag_name": "=probe-tag",
                "resource_type_name": "=OS::Glance::Image", "task_id": "=00000000-0000-4000-8000-000000000000"}
PLACEMENT_PARAMS = {"uuid": "provider", "resource_class": "=VCPU", "consumer_uuid": "server",
                    "name": "=CUSTOM_PERSONA_MATRIX"}

# Host power actions: asked of a host that does not exist, so an admin's call is let through (404) without
# rebooting anything; no driver here powers hosts (an existing host answers 501, as Nova's libvirt).
HOST_POWER = [Row("compute", "GET", f"/v2.1/os-hosts/{{host_name}}/{action}", "admin", None,
                  {"host_name": "=no-such-host"}) for action in ("reboot", "shutdown", "startup")]

METERING = _rows("metering", """
GET / public
GET /v1 public
GET /v1/usage admin
GET /v1/usage/{project_id} read_a
GET /v1/tariffs project
POST /v1/tariffs admin
DELETE /v1/tariffs/{tariff_id} admin
""", {("POST", "/v1/tariffs"): lambda w: {"tariff": {"meter": "vcpu", "price": "0.01"}}})
METERING_PARAMS = {"project_id": "project_a", "tariff_id": "=no-such-tariff"}

# Remote consoles (issue 20): a console of A's server for its members; tokens for admins only (asked of a
# token that does not exist, so an admin's call is let through with a 404).
CONSOLES = [Row("compute", "POST", "/v2.1/servers/{server_id}/remote-consoles", "write_a",
                lambda w: {"remote_console": {"protocol": "serial", "type": "serial"}}),
            Row("compute", "GET", "/v2.1/os-console-auth-tokens/{console_token}", "admin", None,
                {"console_token": "=no-such-token"})]

_MISSING = "6c3a5b4e-0d1f-4b8a-9e2c-7f1d0a9b8c7f"  # a volume id no world has
VOLUME = _rows("volume", """
GET / public
GET /v3 public
GET /v3/{project_id}/volumes project
POST /v3/{project_id}/volumes create
GET /v3/{project_id}/volumes/detail project
GET /v3/{project_id}/os-volume-transfer project
GET /v3/{project_id}/os-volume-transfer/detail project
GET /v3/{project_id}/volume-transfers project
GET /v3/{project_id}/volume-transfers/detail project
GET /v3/{project_id}/volumes/{volume_id} read_a
PUT /v3/{project_id}/volumes/{volume_id} write_a
DELETE /v3/{project_id}/volumes/{volume_id} write_a
POST /v3/{project_id}/volumes/{volume_id}/action write_a
GET /v3/{project_id}/volumes/{volume_id}/metadata read_a
POST /v3/{project_id}/volumes/{volume_id}/metadata write_a
PUT /v3/{project_id}/volumes/{volume_id}/metadata write_a
GET /v3/{project_id}/volumes/{volume_id}/metadata/{key} read_a
PUT /v3/{project_id}/volumes/{volume_id}/metadata/{key} write_a
DELETE /v3/{project_id}/volumes/{volume_id}/metadata/{key} write_a
GET /v3/{project_id}/snapshots project
POST /v3/{project_id}/snapshots create
GET /v3/{project_id}/snapshots/detail project
GET /v3/{project_id}/snapshots/{snapshot_id} read_a
PUT /v3/{project_id}/snapshots/{snapshot_id} write_a
DELETE /v3/{project_id}/snapshots/{snapshot_id} write_a
GET /v3/{project_id}/snapshots/{snapshot_id}/metadata read_a
POST /v3/{project_id}/snapshots/{snapshot_id}/metadata write_a
PUT /v3/{project_id}/snapshots/{snapshot_id}/metadata write_a
GET /v3/{project_id}/snapshots/{snapshot_id}/metadata/{key} read_a
PUT /v3/{project_id}/snapshots/{snapshot_id}/metadata/{key} write_a
DELETE /v3/{project_id}/snapshots/{snapshot_id}/metadata/{key} write_a
GET /v3/{project_id}/types project
POST /v3/{project_id}/types admin
GET /v3/{project_id}/types/{type_id} project
PUT /v3/{project_id}/types/{type_id} admin
DELETE /v3/{project_id}/types/{type_id} admin
GET /v3/{project_id}/types/{type_id}/extra_specs project
POST /v3/{project_id}/types/{type_id}/extra_specs admin
GET /v3/{project_id}/types/{type_id}/extra_specs/{key} project
PUT /v3/{project_id}/types/{type_id}/extra_specs/{key} admin
DELETE /v3/{project_id}/types/{type_id}/extra_specs/{key} admin
GET /v3/{project_id}/os-quota-sets/{target_project_id} read_a
PUT /v3/{project_id}/os-quota-sets/{target_project_id} admin
DELETE /v3/{project_id}/os-quota-sets/{target_project_id} admin
GET /v3/{project_id}/os-quota-sets/{target_project_id}/defaults read_a
GET /v3/{project_id}/limits project
GET /v3/{project_id}/os-availability-zone project
GET /v3/{project_id}/os-services admin
GET /v3/{project_id}/attachments project
POST /v3/{project_id}/attachments create
GET /v3/{project_id}/attachments/detail project
GET /v3/{project_id}/attachments/{attachment_id} read_a
PUT /v3/{project_id}/attachments/{attachment_id} write_a
DELETE /v3/{project_id}/attachments/{attachment_id} write_a
POST /v3/{project_id}/attachments/{attachment_id}/action write_a
POST /v3/{project_id}/types/{type_id}/action admin
GET /v3/{project_id}/types/{type_id}/os-volume-type-access admin
GET /v3/{project_id}/qos-specs admin
POST /v3/{project_id}/qos-specs admin
GET /v3/{project_id}/qos-specs/{qos_id} admin
PUT /v3/{project_id}/qos-specs/{qos_id} admin
DELETE /v3/{project_id}/qos-specs/{qos_id} admin
PUT /v3/{project_id}/qos-specs/{qos_id}/delete_keys admin
GET /v3/{project_id}/qos-specs/{qos_id}/associations admin
GET /v3/{project_id}/qos-specs/{qos_id}/associate admin
GET /v3/{project_id}/qos-specs/{qos_id}/disassociate admin
GET /v3/{project_id}/qos-specs/{qos_id}/disassociate_all admin
GET /v3/{project_id}/backups project
POST /v3/{project_id}/backups create
GET /v3/{project_id}/backups/detail project
POST /v3/{project_id}/backups/import_record admin
GET /v3/{project_id}/backups/{backup_id} read_a
PUT /v3/{project_id}/backups/{backup_id} write_a
DELETE /v3/{project_id}/backups/{backup_id} write_a
POST /v3/{project_id}/backups/{backup_id}/restore write_a
POST /v3/{project_id}/backups/{backup_id}/action admin
GET /v3/{project_id}/backups/{backup_id}/export_record admin
POST /v3/{project_id}/os-volume-transfer create
GET /v3/{project_id}/os-volume-transfer/{transfer_id} read_a
DELETE /v3/{project_id}/os-volume-transfer/{transfer_id} write_a
POST /v3/{project_id}/os-volume-transfer/{transfer_id}/accept create
POST /v3/{project_id}/volume-transfers create
GET /v3/{project_id}/volume-transfers/{transfer_id} read_a
DELETE /v3/{project_id}/volume-transfers/{transfer_id} write_a
POST /v3/{project_id}/volume-transfers/{transfer_id}/accept create
""", {
    ("POST", "/v3/{project_id}/types/{type_id}/action"): lambda w: {"addProjectAccess": {"project": w.ids["project_a"]}},
    ("POST", "/v3/{project_id}/qos-specs"): lambda w: {"qos_specs": {"name": _name(), "read_iops_sec": "100"}},
    ("PUT", "/v3/{project_id}/qos-specs/{qos_id}"): lambda w: {"qos_specs": {"read_iops_sec": "200"}},
    ("PUT", "/v3/{project_id}/qos-specs/{qos_id}/delete_keys"): lambda w: {"keys": ["read_iops_sec"]},
    ("POST", "/v3/{project_id}/volumes"): lambda w: {"volume": {"size": 1, "name": _name()}},
    ("PUT", "/v3/{project_id}/volumes/{volume_id}"): lambda w: {"volume": {"name": _name()}},
    ("POST", "/v3/{project_id}/volumes/{volume_id}/action"): lambda w: {"os-set_bootable": {"bootable": False}},
    ("POST", "/v3/{project_id}/volumes/{volume_id}/metadata"): lambda w: {"metadata": {"size": "big"}},
    ("PUT", "/v3/{project_id}/volumes/{volume_id}/metadata"): lambda w: {"metadata": {"color": "blue"}},
    ("PUT", "/v3/{project_id}/volumes/{volume_id}/metadata/{key}"): lambda w: {"meta": {"color": "red"}},
    ("POST", "/v3/{project_id}/snapshots"): lambda w: {"snapshot": {"volume_id": w.ids["volume"]}},
    ("PUT", "/v3/{project_id}/snapshots/{snapshot_id}"): lambda w: {"snapshot": {"name": _name()}},
    ("POST", "/v3/{project_id}/snapshots/{snapshot_id}/metadata"): lambda w: {"metadata": {"size": "big"}},
    ("PUT", "/v3/{project_id}/snapshots/{snapshot_id}/metadata"): lambda w: {"metadata": {"color": "blue"}},
    ("PUT", "/v3/{project_id}/snapshots/{snapshot_id}/metadata/{key}"): lambda w: {"meta": {"color": "red"}},
    ("POST", "/v3/{project_id}/types"): lambda w: {"volume_type": {"name": _name()}},
    ("PUT", "/v3/{project_id}/types/{type_id}"): lambda w: {"volume_type": {"description": "changed"}},
    ("POST", "/v3/{project_id}/types/{type_id}/extra_specs"): lambda w: {"extra_specs": {"tier": "silver"}},
    ("PUT", "/v3/{project_id}/types/{type_id}/extra_specs/{key}"): lambda w: {"tier": "silver"},
    ("PUT", "/v3/{project_id}/os-quota-sets/{target_project_id}"): lambda w: {"quota_set": {"volumes": 20}},
    ("POST", "/v3/{project_id}/attachments"): lambda w: {"attachment": {"volume_uuid": w.ids["volume"],
                                                                         "instance_uuid": w.ids["server"]}},
    ("PUT", "/v3/{project_id}/attachments/{attachment_id}"): lambda w: {"attachment": {"connector": {
        "host": "compute-1", "initiator": "iqn.2026-12.org.nubis:compute-1"}}},
    ("POST", "/v3/{project_id}/attachments/{attachment_id}/action"): lambda w: {"os-complete": {}},
    # Backups and transfers of ids that do not exist (nothing of A's changes state): allowed callers get 404.
    ("POST", "/v3/{project_id}/backups"): lambda w: {"backup": {"volume_id": _MISSING}},
    ("POST", "/v3/{project_id}/backups/import_record"): lambda w: {"backup-record": {
        "backup_service": "cinder.backup.drivers.posix", "backup_url": "e30="}},
    ("PUT", "/v3/{project_id}/backups/{backup_id}"): lambda w: {"backup": {"name": _name()}},
    ("POST", "/v3/{project_id}/backups/{backup_id}/restore"): lambda w: {"restore": None},
    ("POST", "/v3/{project_id}/backups/{backup_id}/action"): lambda w: {"os-reset_status": {"status": "error"}},
    ("POST", "/v3/{project_id}/os-volume-transfer"): lambda w: {"transfer": {"volume_id": _MISSING}},
    ("POST", "/v3/{project_id}/os-volume-transfer/{transfer_id}/accept"): lambda w: {"accept": {"auth_key": "k"}},
    ("POST", "/v3/{project_id}/volume-transfers"): lambda w: {"transfer": {"volume_id": _MISSING}},
    ("POST", "/v3/{project_id}/volume-transfers/{transfer_id}/accept"): lambda w: {"accept": {"auth_key": "k"}},
})


def _volume_version(version: str) -> Callable[[World, str], dict[str, str]]:
    return lambda world, persona: {"OpenStack-API-Version": f"volume {version}"}


_NO_SUCH = "=6c3a5b4e-0d1f-4b8a-9e2c-7f1d0a9b8c7f"
# Volume admin APIs, actions and microversioned routes: asked of things that do not exist where the admin's call
# is let through (a host, a message), so nothing of the world changes.
VOLUME_MORE = [
    Row("volume", "GET", "/v3/{project_id}/volumes/summary", "project", headers=_volume_version("3.12")),
    Row("volume", "POST", "/v3/{project_id}/snapshots/{snapshot_id}/action", "write_a",
        lambda w: {"os-update_snapshot_status": {"status": "available"}}),
    Row("volume", "GET", "/v3/{project_id}/extensions", "project"),
    Row("volume", "GET", "/v3/{project_id}/messages", "project", headers=_volume_version("3.3")),
    Row("volume", "GET", "/v3/{project_id}/messages/{message_id}", "read_a", None, {"message_id": _NO_SUCH},
        _volume_version("3.3")),
    Row("volume", "DELETE", "/v3/{project_id}/messages/{message_id}", "write_a", None, {"message_id": _NO_SUCH},
        _volume_version("3.3")),
    Row("volume", "PUT", "/v3/{project_id}/os-services/{action}", "admin",
        lambda w: {"host": "no-such-host", "binary": "cinder-volume"}, {"action": "=enable"}),
    Row("volume", "GET", "/v3/{project_id}/os-hosts", "admin"),
    Row("volume", "GET", "/v3/{project_id}/os-hosts/{host}", "admin", None, {"host": "=no-such-host"}),
    Row("volume", "GET", "/v3/{project_id}/scheduler-stats/get_pools", "admin"),
    Row("volume", "GET", "/v3/{project_id}/capabilities/{host}", "admin", None, {"host": "=no-such-host"}),
    Row("volume", "GET", "/v3/{project_id}/os-quota-class-sets/{class_name}", "admin", None,
        {"class_name": "=default"}),
    Row("volume", "PUT", "/v3/{project_id}/os-quota-class-sets/{class_name}", "admin",
        lambda w: {"quota_class_set": {"volumes": 10}}, {"class_name": "=default"}),
]
# Generic volume groups (3.11-3.20): asked of group types, groups and group snapshots that do not exist, so an
# allowed caller's read is a 404 and nothing of the world changes.
_GROUP_IDS = {"group_type_id": _NO_SUCH, "group_id": _NO_SUCH, "group_snapshot_id": _NO_SUCH, "key": "=no-key"}
_GROUP_BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/group_types"): lambda w: {"group_type": {"name": _name()}},
    ("PUT", "/group_types/{group_type_id}"): lambda w: {"group_type": {"description": "changed"}},
    ("POST", "/group_types/{group_type_id}/group_specs"): lambda w: {"group_specs": {"k": "v"}},
    ("PUT", "/group_types/{group_type_id}/group_specs/{key}"): lambda w: {"no-key": "v"},
    ("POST", "/groups"): lambda w: {"group": {"group_type": _NO_SUCH[1:], "volume_types": [_NO_SUCH[1:]]}},
    ("POST", "/groups/action"): lambda w: {"create-from-src": {"source_group_id": _NO_SUCH[1:]}},
    ("PUT", "/groups/{group_id}"): lambda w: {"group": {"name": _name()}},
    ("POST", "/groups/{group_id}/action"): lambda w: {"delete": {"delete-volumes": False}},
    ("POST", "/group_snapshots"): lambda w: {"group_snapshot": {"group_id": _NO_SUCH[1:]}},
    ("POST", "/group_snapshots/{group_snapshot_id}/action"): lambda w: {"reset_status": {"status": "error"}},
}
VOLUME_GROUPS = [
    Row("volume", method, "/v3/{project_id}" + path, access, _GROUP_BODIES.get((method, path)), dict(_GROUP_IDS))
    for method, path, access in (line.split() for line in """
GET /group_types project
POST /group_types admin
GET /group_types/{group_type_id} project
PUT /group_types/{group_type_id} admin
DELETE /group_types/{group_type_id} admin
GET /group_types/{group_type_id}/group_specs admin
POST /group_types/{group_type_id}/group_specs admin
GET /group_types/{group_type_id}/group_specs/{key} admin
PUT /group_types/{group_type_id}/group_specs/{key} admin
DELETE /group_types/{group_type_id}/group_specs/{key} admin
GET /groups project
POST /groups create
GET /groups/detail project
POST /groups/action create
GET /groups/{group_id} read_a
PUT /groups/{group_id} write_a
POST /groups/{group_id}/action write_a
GET /group_snapshots project
POST /group_snapshots create
GET /group_snapshots/detail project
GET /group_snapshots/{group_snapshot_id} read_a
DELETE /group_snapshots/{group_snapshot_id} write_a
POST /group_snapshots/{group_snapshot_id}/action admin
""".strip().splitlines())
]
# Volume paths name the admin's project; World.call puts the calling persona's there.
VOLUME_PARAMS = {"project_id": "project_of_admin", "volume_id": "volume", "snapshot_id": "snapshot",
                 "type_id": "volume_type", "target_project_id": "project_a", "attachment_id": "attachment",
                 # QoS specs that do not exist: an admin's call is let through (404) and changes nothing.
                 "qos_id": "=00000000-0000-4000-8000-00000000a05c",
                 "backup_id": "=6c3a5b4e-0d1f-4b8a-9e2c-7f1d0a9b8c80", "transfer_id": "=6c3a5b4e-0d1f-4b8a-9e2c-7f1d0a9b8c81"}



def _proxy_rows() -> list[Row]:
    """Compute's deprecated proxies to the network and image services, asked at 2.35 (they are 404 from 2.36)."""
    spec = {
        ("GET", "/v2.1/os-security-groups"): ("project", None),
        ("POST", "/v2.1/os-security-groups"): ("create", lambda w: {"security_group": {
            "name": _name(), "description": "d"}}),
        ("GET", "/v2.1/os-security-groups/{security_group_id}"): ("read_a", None),
        ("PUT", "/v2.1/os-security-groups/{security_group_id}"): ("write_a", lambda w: {"security_group": {
            "name": _name(), "description": "d"}}),
        ("DELETE", "/v2.1/os-security-groups/{security_group_id}"): ("write_a", None),
        ("POST", "/v2.1/os-security-group-rules"): ("write_a", lambda w: {"security_group_rule": {
            "parent_group_id": w.ids["security_group"], "ip_protocol": "udp", "from_port": 53, "to_port": 53}}),
        ("DELETE", "/v2.1/os-security-group-rules/{rule_id}"): ("write_a", None),
        ("GET", "/v2.1/servers/{server_id}/os-security-groups"): ("read_a", None),
        ("GET", "/v2.1/os-floating-ips"): ("project", None),
        ("POST", "/v2.1/os-floating-ips"): ("create", lambda w: {"pool": w.ids["external_network"]}),
        ("GET", "/v2.1/os-floating-ips/{floating_ip_id}"): ("read_a", None),
        ("DELETE", "/v2.1/os-floating-ips/{floating_ip_id}"): ("write_a", None),
        ("GET", "/v2.1/os-floating-ip-pools"): ("project", None),
        ("GET", "/v2.1/os-networks"): ("project", None),
        ("GET", "/v2.1/os-networks/{network_id}"): ("read_a", None),
        ("GET", "/v2.1/os-tenant-networks"): ("project", None),
        ("GET", "/v2.1/os-tenant-networks/{network_id}"): ("read_a", None),
        ("GET", "/v2.1/images"): ("project", None),
        ("GET", "/v2.1/images/detail"): ("project", None),
        ("GET", "/v2.1/images/{image_id}"): ("read_a", None),
        ("DELETE", "/v2.1/images/{image_id}"): ("write_a", None),
        ("GET", "/v2.1/images/{image_id}/metadata"): ("read_a", None),
        ("POST", "/v2.1/images/{image_id}/metadata"): ("write_a", lambda w: {"metadata": {"color": "red"}}),
        ("PUT", "/v2.1/images/{image_id}/metadata"): ("write_a", lambda w: {"metadata": {"color": "red"}}),
        ("GET", "/v2.1/images/{image_id}/metadata/{key}"): ("read_a", None),
        ("PUT", "/v2.1/images/{image_id}/metadata/{key}"): ("write_a", lambda w: {"meta": {"color": "red"}}),
        ("DELETE", "/v2.1/images/{image_id}/metadata/{key}"): ("write_a", None),
        ("GET", "/v2.1/os-volumes"): ("project", None),
        ("GET", "/v2.1/os-volumes/detail"): ("project", None),
        ("POST", "/v2.1/os-volumes"): ("write_a", lambda w: {"volume": {"size": 0}}),
        ("GET", "/v2.1/os-volumes/{volume_id}"): ("read_a", None),
        ("DELETE", "/v2.1/os-volumes/{volume_id}"): ("write_a", None),
        ("GET", "/v2.1/os-snapshots"): ("project", None),
        ("GET", "/v2.1/os-snapshots/detail"): ("project", None),
        ("POST", "/v2.1/os-snapshots"): ("write_a", lambda w: {"snapshot": {"volume_id": "0"}}),
        ("GET", "/v2.1/os-snapshots/{snapshot_id}"): ("read_a", None),
        ("DELETE", "/v2.1/os-snapshots/{snapshot_id}"): ("write_a", None),
    }
    params = {"security_group_id": "security_group", "rule_id": "security_group_rule",
              "floating_ip_id": "floatingip", "network_id": "network", "image_id": "private_image",
              "volume_id": "=6c3a5b4e-0d1f-4b8a-9e2c-7f1d0a9b8c7d", "snapshot_id": "=6c3a5b4e-0d1f-4b8a-9e2c-7f1d0a9b8c7e"}
    return [Row("compute", method, template, access, body, {k: v for k, v in params.items() if f"{{{k}}}" in template},
                lambda w, persona: {"OpenStack-API-Version": "compute 2.35"})
            for (method, template), (access, body) in spec.items()]


ROWS: list[Row] = [*IDENTITY, *IDENTITY_EC2, *_grant_rows(), *COMPUTE, *HOST_POWER, *CONSOLES, *_proxy_rows(),
                   *NETWORK_FIXED,
                   *_network_collection_rows(), *_qos_rows(), *IMAGE,
                   *PLACEMENT, *METERING, *VOLUME, *VOLUME_MORE,
                   *VOLUME_GROUPS]


def resolve(row: Row, world: World) -> str:
    """The concrete path of ``row``, its parameters filled from the world's resources."""
    defaults = {"identity": IDENTITY_PARAMS, "compute": COMPUTE_PARAMS, "network": NETWORK_PARAMS,
                "image": IMAGE_PARAMS, "placement": PLACEMENT_PARAMS, "metering": METERING_PARAMS,
                "volume": VOLUME_PARAMS}[row.service]
    params = {**defaults, **row.params}
    if row.service in ("compute", "volume") and "/metadata/" in row.template:
        params["key"] = METADATA_KEY
    if row.service == "volume" and "/extra_specs/" in row.template:
        params["key"] = "=tier"
    if row.service == "network" and row.template in NETWORK_FIXED_PARAMS:
        params["ident"] = NETWORK_FIXED_PARAMS[row.template]
    if row.service == "image" and row.template in IMAGE_MEMBER_ROUTES:
        params["image_id"] = "shared_image"
    path = row.template
    for name, source in params.items():
        value = source[1:] if source.startswith("=") else world.ids[source]
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no value for a parameter of {row.template}"
    return path
