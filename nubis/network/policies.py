"""Network policy, with the rule names Neutron uses (``create_network``, ``update_port:binding:host_id``, ...).

Reads need the reader role (visibility, e.g. shared networks, is decided by the
core's queries); changes need admin or a member of the owning project; the
provider, sharing, external and binding attributes are for admins only; a
port's address, MAC, filtering and network device owner are for the owner of
its network.
"""

from __future__ import annotations

from typing import Any

from oslo_policy import policy

from nubis.common import policy as nubis_policy

ADMIN = nubis_policy.ADMIN
OWNER = f"({ADMIN}) or ({nubis_policy.PROJECT_MEMBER})"
READER = f"({ADMIN}) or (role:reader)"

_RESOURCES = {
    "network": "/v2.0/networks", "subnet": "/v2.0/subnets", "subnetpool": "/v2.0/subnetpools",
    "port": "/v2.0/ports", "security_group": "/v2.0/security-groups",
    "security_group_rule": "/v2.0/security-group-rules", "router": "/v2.0/routers",
    "floatingip": "/v2.0/floatingips", "address_scope": "/v2.0/address-scopes",
    "rbac_policy": "/v2.0/rbac-policies",
}

# Attributes only an admin may set (on create and update).
ADMIN_ATTRIBUTES = {
    "network": ["shared", "router:external", "provider:network_type", "provider:physical_network",
                "provider:segmentation_id"],
    "subnetpool": ["shared", "is_default"],
    "address_scope": ["shared"],
    "rbac_policy": ["target_tenant"],  # checked only for a grant to every project ('*')
    "port": ["binding:host_id", "binding:profile"],
    "router": ["external_gateway_info:external_fixed_ips", "distributed", "ha"],
}

# The API defaults of those attributes: a create that sends one at its default has not set it (Neutron's
# _is_attribute_explicitly_set), as dashboards do with ``"shared": false``. Updates check any attribute sent.
ADMIN_ATTRIBUTE_DEFAULTS = {
    "network": {"shared": False, "router:external": False},
    "subnetpool": {"shared": False, "is_default": False},
    "address_scope": {"shared": False},
    "router": {"distributed": False, "ha": False},
}

# Port attributes only the network's owner (or an admin) may set, Neutron's defaults: on a network shared with
# it, another project's port gets the address, MAC and filtering the service chooses, and cannot pose as one of
# the network's own devices. ``device_owner`` is checked only for values starting with ``network:``
# (Neutron's ``network_device`` rule); the MAC of an existing port is the admin's alone.
NETWORK_OWNER = f"({ADMIN}) or (role:member and project_id:%(network:project_id)s)"
NETWORK_OWNER_ATTRIBUTES = {
    "create": ("fixed_ips:ip_address", "mac_address", "port_security_enabled", "allowed_address_pairs",
               "device_owner"),
    "update": ("fixed_ips:ip_address", "port_security_enabled", "allowed_address_pairs", "device_owner"),
}


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(name=name, check_str=check, description=description,
                                        operations=[{"method": method, "path": path}], scope_types=["project"])


def _rules() -> list[policy.RuleDefault]:
    rules: list[policy.RuleDefault] = []
    for member, path in _RESOURCES.items():
        words = member.replace("_", " ")
        rules += [
            _rule(f"create_{member}", OWNER, f"Create a {words}.", "POST", path),
            _rule(f"get_{member}", READER, f"List or show {words}s the project can see.", "GET", path),
            _rule(f"update_{member}", OWNER, f"Change a {words} of the project.", "PUT", path + "/{id}"),
            _rule(f"delete_{member}", OWNER, f"Delete a {words} of the project.", "DELETE", path + "/{id}"),
        ]
        for attr in ADMIN_ATTRIBUTES.get(member, []):
            rules += [_rule(f"{op}_{member}:{attr}", ADMIN, f"Set {attr} of a {words}.", method, path)
                      for op, method in (("create", "POST"), ("update", "PUT"))]
    for member, path in (("metering_label", "/v2.0/metering/metering-labels"),
                         ("metering_label_rule", "/v2.0/metering/metering-label-rules")):
        words = member.replace("_", " ")  # Neutron's metering policy: the admin's alone
        rules += [_rule(f"{op}_{member}", ADMIN, f"{op.capitalize()} a {words}.", method, path)
                  for op, method in (("create", "POST"), ("get", "GET"), ("delete", "DELETE"))]
    # Neutron's QoS policy: the admin makes policies and rules; a project reads its own and shared ones.
    qos_path = "/v2.0/qos/policies"
    rules += [_rule("get_policy", READER, "List or show QoS policies the project can see.", "GET", qos_path)]
    rules += [_rule(f"{op}_policy", ADMIN, f"{op.capitalize()} a QoS policy.", method, qos_path)
              for op, method in (("create", "POST"), ("update", "PUT"), ("delete", "DELETE"))]
    for kind in ("bandwidth_limit", "dscp_marking", "minimum_bandwidth"):
        path = f"{qos_path}/{{policy_id}}/{kind}_rules"
        rules += [_rule(f"get_policy_{kind}_rule", READER, f"List or show the {kind} rules of a QoS policy.",
                      "GET", path)]
        rules += [_rule(f"{op}_policy_{kind}_rule", ADMIN, f"{op.capitalize()} a {kind} rule of a QoS policy.",
                        method, path) for op, method in (("create", "POST"), ("update", "PUT"), ("delete", "DELETE"))]
    for op, method in (("create", "POST"), ("update", "PUT")):
        rules += [_rule(f"{op}_port:{attr}", NETWORK_OWNER, f"Set {attr} of a port on another project's network.",
                        method, "/v2.0/ports") for attr in NETWORK_OWNER_ATTRIBUTES[op]]
    rules += [
        _rule("update_port:mac_address", ADMIN, "Change the MAC address of an existing port.", "PUT",
              "/v2.0/ports/{id}"),
        _rule("add_router_interface", OWNER, "Attach a subnet or port to a router.", "PUT",
              "/v2.0/routers/{id}/add_router_interface"),
        _rule("remove_router_interface", OWNER, "Detach a subnet or port from a router.", "PUT",
              "/v2.0/routers/{id}/remove_router_interface"),
        _rule("add_extraroutes", OWNER, "Add extra routes to a router.", "PUT",
              "/v2.0/routers/{id}/add_extraroutes"),
        _rule("remove_extraroutes", OWNER, "Remove extra routes from a router.", "PUT",
              "/v2.0/routers/{id}/remove_extraroutes"),
        _rule("get_service_provider", READER, "List the service providers.", "GET", "/v2.0/service-providers"),
        _rule("get_availability_zone", READER, "List the availability zones.", "GET", "/v2.0/availability_zones"),
        _rule("get_network_ip_availability", ADMIN, "Show address usage of networks.", "GET",
              "/v2.0/network-ip-availabilities"),
        _rule("get_ip_allocation_history", ADMIN, "Show who held which address when.", "GET",
              "/v2.0/ip-allocation-history"),
        _rule("get_quota", f"({ADMIN}) or ({nubis_policy.PROJECT_READER})", "Show a project's quotas.", "GET",
              "/v2.0/quotas/{project_id}"),
        _rule("update_quota", ADMIN, "Change or reset a project's quotas.", "PUT", "/v2.0/quotas/{project_id}"),
        _rule("get_rule_type", ADMIN, "Show which values a QoS rule type takes.", "GET",
              "/v2.0/qos/rule-types/{rule_type}"),
        _rule("get_agent", ADMIN, "List and show agents.", "GET", "/v2.0/agents"),
        _rule("update_agent", ADMIN, "Enable, disable or describe an agent.", "PUT", "/v2.0/agents/{id}"),
        _rule("delete_agent", ADMIN, "Forget an agent.", "DELETE", "/v2.0/agents/{id}"),
    ]
    return rules


RULES = _rules()


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
