"""Network service options: tenant network types, segment ranges, MTU, MACs, quotas."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "network"

OPTS = [
    cfg.ListOpt("tenant_network_types", default=["vxlan"],
                help="Network types given to tenants that do not ask for one, in order of preference."),
    cfg.ListOpt("flat_networks", default=["physnet1"],
                help="Physical networks on which admins may create flat networks ('*' for any)."),
    cfg.ListOpt("network_vlan_ranges", default=["physnet1:100:199"],
                help="<physnet>[:<min>:<max>] pairs: where vlan networks may live, and the tenant VLAN ranges."),
    cfg.StrOpt("vni_ranges", default="1:65535", help="<min>:<max> of the VXLAN ids handed to tenant networks."),
    cfg.IntOpt("global_physnet_mtu", default=1500, min=68,
               help="MTU of the underlying physical network; overlay networks get this minus the VXLAN header."),
    cfg.StrOpt("base_mac", default="fa:16:3e:00:00:00",
               help="Port MACs start with the first three octets of this address."),
    cfg.IntOpt("max_fixed_ips_per_port", default=5, min=1, help="Most addresses one port may hold."),
    cfg.IntOpt("pagination_max_limit", default=1000, min=1, help="Most items one list request returns."),
    cfg.IntOpt("agent_down_time", default=75, min=1,
               help="Seconds without a heartbeat after which an agent is shown as not alive."),
    cfg.StrOpt("dns_domain", default="openstacklocal.", help="The domain DHCP hands to guests."),
]

QUOTA_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("quota_network", default=100, help="Networks per project (-1: unlimited)."),
    cfg.IntOpt("quota_subnet", default=100, help="Subnets per project (-1: unlimited)."),
    cfg.IntOpt("quota_port", default=500, help="Ports per project (-1: unlimited)."),
    cfg.IntOpt("quota_router", default=10, help="Routers per project (-1: unlimited)."),
    cfg.IntOpt("quota_floatingip", default=50, help="Floating IPs per project (-1: unlimited)."),
    cfg.IntOpt("quota_security_group", default=10, help="Security groups per project (-1: unlimited)."),
    cfg.IntOpt("quota_security_group_rule", default=100, help="Security group rules per project (-1: unlimited)."),
    cfg.IntOpt("quota_subnetpool", default=-1, help="Subnet pools per project (-1: unlimited)."),
]

METADATA_GROUP = "metadata"
METADATA_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("shared_secret", secret=True, default="",
               help="Signs the instance id the metadata proxies send to nubis-metadata (HMAC-SHA256); the "
                    "agents and the metadata service must share it."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS), ("quotas", QUOTA_OPTS)]
