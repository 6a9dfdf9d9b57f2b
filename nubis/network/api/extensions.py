"""The extensions this API implements, as ``GET /v2.0/extensions`` lists them (clients switch on these)."""

from __future__ import annotations

from typing import Any

UPDATED = "2026-11-30T00:00:00-00:00"

# alias -> (name, description)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "address-scope": ("Address scope", "Address scopes extension."),
    "agent": ("agent", "The agent management extension."),
    "allowed-address-pairs": ("Allowed Address Pairs", "Provides allowed address pairs."),
    "binding": ("Port Binding", "Expose port bindings of a virtual port to external application."),
    "external-net": ("Neutron external network", "Adds external network attribute to network resource."),
    "extra_dhcp_opt": ("Neutron Extra DHCP options", "Extra options configuration for DHCP."),
    "fip-port-details": ("Floating IP Port Details Extension", "Add port_details attribute to Floating IP "
                                                                 "resource"),
    "ip-substring-filtering": ("IP address substring filtering", "Provides IP address substring filtering "
                                                                "when listing ports."),
    "network-ip-availability": ("Network IP Availability", "Provides IP availability data for each network "
                                                           "and subnet."),
    "port-security": ("Port Security", "Provides port security."),
    "project-id": ("project_id field enabled", "Extension that indicates that project_id field is enabled."),
    "provider": ("Provider Network", "Expose mapping of virtual networks to physical networks."),
    "quotas": ("Quota management support", "Expose functions for quotas management per project."),
    "quota_details": ("Quota details management support", "Expose functions for quotas usage statistics per "
                                                           "project."),
    "rbac-policies": ("RBAC Policies", "Allows creation and modification of policies that control tenant access "
                                       "to resources."),
    "router": ("Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and "
                                    "access to external networks via a NAT gateway."),
    "ext-gw-mode": ("Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for "
                                                                     "specifying whether SNAT should occur on the "
                                                                     "external gateway."),
    "extraroute": ("Neutron Extra Route", "Extra routes configuration for L3 router."),
    "extraroute-atomic": ("Atomically add/remove extra routes", "Edit extra routes of a router on server side "
                                                                "by atomically adding/removing extra routes"),
    "service-type": ("Neutron Service Type Management", "API for retrieving service providers for Neutron "
                                                        "advanced services"),
    "availability_zone": ("Availability Zone", "The availability zone extension."),
    "network_availability_zone": ("Network Availability Zone", "Availability zone support for network."),
    "router_availability_zone": ("Router Availability Zone", "Availability zone support for router."),
    "metering": ("Neutron Metering", "Neutron Metering extension."),
    "security-group": ("security-group", "The security groups extension."),
    "standard-attr-description": ("standard-attr-description", "Extension to add descriptions to standard "
                                                               "attributes."),
    "standard-attr-revisions": ("Resource revision numbers", "This extension will display the revision number "
                                                             "of neutron resources."),
    "revision-if-match": ("If-Match constraints based on revision_number", "Extension indicating that If-Match "
                                                                          "based on revision_number is supported."),
    "standard-attr-timestamp": ("Resource timestamps", "Adds created_at and updated_at fields to all Neutron "
                                                       "resources that have Neutron standard attributes."),
    "standard-attr-tag": ("Tag support for resources with standard attribute", "Enables to set tag on resources "
                                                                               "with standard attribute."),
    "subnet_allocation": ("Subnet Allocation", "Enables allocation of subnets from a subnet pool."),
    "subnetpool": ("Subnet Pool", "Provides subnet pools."),
    "default-subnetpools": ("Default Subnetpools", "Provides ability to mark and use a subnetpool as the "
                                                   "default."),
    "sorting": ("Sorting support", "Extension that indicates that sorting is enabled."),
    "pagination": ("Pagination support", "Extension that indicates that pagination is enabled."),
    "qos": ("Quality of Service", "The Quality of Service extension."),
    "qos-default": ("QoS default policy", "Expose the QoS default policy per project."),
    "qos-bw-limit-direction": ("Direction for QoS bandwidth limit rule", "Allow to configure QoS bandwidth limit "
                                                                         "rule with specific direction: ingress "
                                                                         "or egress."),
    "qos-rule-type-details": ("Details of QoS rule types", "Expose details about QoS rule types supported by "
                                                           "loaded backend drivers."),
    "qos-bw-minimum-ingress": ("Ingress direction for QoS minimum bandwidth rule", "Allow to configure QoS "
                                                                                  "minumum bandwidth rule with "
                                                                                  "ingress direction."),
    "nubis-ip-allocation-history": ("IP allocation history", "Admins list which port held which address when: "
                                                             "GET /v2.0/ip-allocation-history."),
}


def view(alias: str) -> dict[str, Any]:
    name, description = EXTENSIONS[alias]
    return {"alias": alias, "name": name, "description": description, "updated": UPDATED, "links": []}
