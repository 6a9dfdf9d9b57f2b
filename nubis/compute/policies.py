"""Compute policy, with Nova's rule names: project members manage their servers, users their keypairs, admins
flavors, quotas and hosts.

``context_is_admin`` (shared by every service) decides whether the compute core treats a caller as an admin
(sees every project's servers, unlocks what an admin locked, ...); handlers check one rule below per request.
"""

from __future__ import annotations

from typing import Any

from oslo_policy import policy

from nubis.common import policy as nubis_policy

ADMIN = "role:admin"
PROJECT_MEMBER = f"({ADMIN}) or (role:member and project_id:%(project_id)s)"
PROJECT_READER = f"({ADMIN}) or (role:reader and project_id:%(project_id)s)"
OWNER_USER = f"({ADMIN}) or user_id:%(user_id)s"
ANY_READER = f"({ADMIN}) or role:reader"


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(name=f"os_compute_api:{name}", check_str=check, description=description,
                                        operations=[{"method": method, "path": path}], scope_types=["project"])


# Nova's per-API rules: (rule, check, method, path, what it allows). Keypairs belong to a user: the target is
# the user whose keypairs are asked for (?user_id=, 2.10); quota and usage rules target the project asked for.
_PER_API = (
    ("os-keypairs:index", OWNER_USER, "GET", "/os-keypairs", "List a user's keypairs."),
    ("os-keypairs:create", OWNER_USER, "POST", "/os-keypairs", "Create or import a keypair for a user."),
    ("os-keypairs:show", OWNER_USER, "GET", "/os-keypairs/{keypair_name}", "Show a user's keypair."),
    ("os-keypairs:delete", OWNER_USER, "DELETE", "/os-keypairs/{keypair_name}", "Delete a user's keypair."),
    ("os-server-groups:create", PROJECT_MEMBER, "POST", "/os-server-groups", "Create a server group."),
    ("os-server-groups:index", PROJECT_READER, "GET", "/os-server-groups", "List the project's server groups."),
    ("os-server-groups:index:all_projects", ADMIN, "GET", "/os-server-groups",
     "List the server groups of every project."),
    ("os-server-groups:show", PROJECT_READER, "GET", "/os-server-groups/{id}", "Show a server group."),
    ("os-server-groups:delete", PROJECT_MEMBER, "DELETE", "/os-server-groups/{id}", "Delete a server group."),
    ("os-services:list", ADMIN, "GET", "/os-services", "List compute services."),
    ("os-services:update", ADMIN, "PUT", "/os-services/{service_id}",
     "Enable, disable or force down a compute service."),
    ("os-services:delete", ADMIN, "DELETE", "/os-services/{service_id}", "Delete a compute service."),
    ("os-hypervisors:list", ADMIN, "GET", "/os-hypervisors", "List hypervisors."),
    ("os-hypervisors:list-detail", ADMIN, "GET", "/os-hypervisors/detail", "List hypervisors with details."),
    ("os-hypervisors:show", ADMIN, "GET", "/os-hypervisors/{hypervisor_id}", "Show a hypervisor."),
    ("os-hypervisors:uptime", ADMIN, "GET", "/os-hypervisors/{hypervisor_id}/uptime",
     "Show a hypervisor's uptime (before 2.88)."),
    ("os-hypervisors:statistics", ADMIN, "GET", "/os-hypervisors/statistics",
     "Show the totals over all hypervisors (before 2.88)."),
    ("os-hypervisors:search", ADMIN, "GET", "/os-hypervisors/{hypervisor_hostname_pattern}/search",
     "Find hypervisors by host name (before 2.53)."),
    ("os-hypervisors:servers", ADMIN, "GET", "/os-hypervisors/{hypervisor_hostname_pattern}/servers",
     "List the servers of hypervisors found by host name (before 2.53)."),
    *((f"os-hosts:{rule}", ADMIN, method, f"/os-hosts{path}", f"{what} (before 2.43).") for rule, method, path, what in (
        ("list", "GET", "", "List hosts"), ("show", "GET", "/{host_name}", "Show a host's resources"),
        ("update", "PUT", "/{host_name}", "Enable or disable a host"),
        ("reboot", "GET", "/{host_name}/reboot", "Reboot a host"),
        ("shutdown", "GET", "/{host_name}/shutdown", "Shut a host down"),
        ("start", "GET", "/{host_name}/startup", "Start a host"))),
    ("os-instance-usage-audit-log:list", ADMIN, "GET", "/os-instance_usage_audit_log",
     "Show the instance usage audit of the last period."),
    ("os-instance-usage-audit-log:show", ADMIN, "GET", "/os-instance_usage_audit_log/{before_timestamp}",
     "Show the instance usage audit of the period before a time."),
    ("extensions", "@", "GET", "/extensions", "List the API extensions."),
    ("os-quota-sets:show", PROJECT_READER, "GET", "/os-quota-sets/{tenant_id}", "Show a project's quota."),
    ("os-quota-sets:detail", PROJECT_READER, "GET", "/os-quota-sets/{tenant_id}/detail",
     "Show a project's quota with its usage."),
    ("os-quota-sets:defaults", "@", "GET", "/os-quota-sets/{tenant_id}/defaults", "Show the default quota."),
    ("os-quota-sets:update", ADMIN, "PUT", "/os-quota-sets/{tenant_id}", "Change a project's quota."),
    ("os-quota-sets:delete", ADMIN, "DELETE", "/os-quota-sets/{tenant_id}",
     "Reset a project's quota to the defaults."),
    ("os-quota-class-sets:show", ADMIN, "GET", "/os-quota-class-sets/{id}", "Show the default quota class."),
    ("os-quota-class-sets:update", ADMIN, "PUT", "/os-quota-class-sets/{id}", "Change the default quota class."),
    ("os-simple-tenant-usage:list", ADMIN, "GET", "/os-simple-tenant-usage", "Show the usage of every project."),
    ("os-simple-tenant-usage:show", PROJECT_READER, "GET", "/os-simple-tenant-usage/{tenant_id}",
     "Show a project's usage."),
    ("limits:other_project", ADMIN, "GET", "/limits", "Show another project's limits (?tenant_id=)."),
)

# The deprecated proxies to the network and image services (before 2.36): the called service applies its own
# policy to the caller too, these rules are Nova's.
_PROXIES = (
    ("os-security-groups:get", PROJECT_READER, "GET", "/os-security-groups", "List security groups (proxy)."),
    ("os-security-groups:show", PROJECT_READER, "GET", "/os-security-groups/{security_group_id}",
     "Show a security group (proxy)."),
    ("os-security-groups:create", PROJECT_MEMBER, "POST", "/os-security-groups", "Create a security group (proxy)."),
    ("os-security-groups:update", PROJECT_MEMBER, "PUT", "/os-security-groups/{security_group_id}",
     "Rename or describe a security group (proxy)."),
    ("os-security-groups:delete", PROJECT_MEMBER, "DELETE", "/os-security-groups/{security_group_id}",
     "Delete a security group (proxy)."),
    ("os-security-groups:rule:create", PROJECT_MEMBER, "POST", "/os-security-group-rules",
     "Add an ingress rule to a security group (proxy)."),
    ("os-security-groups:rule:delete", PROJECT_MEMBER, "DELETE", "/os-security-group-rules/{security_group_id}",
     "Delete a security group rule (proxy)."),
    ("os-security-groups:list", PROJECT_READER, "GET", "/servers/{server_id}/os-security-groups",
     "List the security groups of a server."),
    ("os-floating-ips:list", PROJECT_READER, "GET", "/os-floating-ips", "List floating IPs (proxy)."),
    ("os-floating-ips:show", PROJECT_READER, "GET", "/os-floating-ips/{floating_ip_id}",
     "Show a floating IP (proxy)."),
    ("os-floating-ips:create", PROJECT_MEMBER, "POST", "/os-floating-ips", "Allocate a floating IP (proxy)."),
    ("os-floating-ips:delete", PROJECT_MEMBER, "DELETE", "/os-floating-ips/{floating_ip_id}",
     "Release a floating IP (proxy)."),
    ("os-floating-ips:add", PROJECT_MEMBER, "POST", "/servers/{server_id}/action (addFloatingIp)",
     "Associate a floating IP with a server (before 2.44)."),
    ("os-floating-ips:remove", PROJECT_MEMBER, "POST", "/servers/{server_id}/action (removeFloatingIp)",
     "Disassociate a floating IP from a server (before 2.44)."),
    ("os-floating-ip-pools:list", ANY_READER, "GET", "/os-floating-ip-pools", "List floating IP pools (proxy)."),
    ("os-networks:list", PROJECT_READER, "GET", "/os-networks", "List networks (proxy)."),
    ("os-networks:view", PROJECT_READER, "GET", "/os-networks/{network_id}", "Show a network (proxy)."),
    ("os-tenant-networks:list", PROJECT_READER, "GET", "/os-tenant-networks", "List the project's networks (proxy)."),
    ("os-tenant-networks:show", PROJECT_READER, "GET", "/os-tenant-networks/{network_id}",
     "Show a project network (proxy)."),
    ("os-volumes:list", PROJECT_READER, "GET", "/os-volumes", "List volumes (proxy)."),
    ("os-volumes:show", PROJECT_READER, "GET", "/os-volumes/{volume_id}", "Show a volume (proxy)."),
    ("os-volumes:create", PROJECT_MEMBER, "POST", "/os-volumes", "Create a volume (proxy)."),
    ("os-volumes:delete", PROJECT_MEMBER, "DELETE", "/os-volumes/{volume_id}", "Delete a volume (proxy)."),
    ("os-volumes:snapshots:list", PROJECT_READER, "GET", "/os-snapshots", "List volume snapshots (proxy)."),
    ("os-volumes:snapshots:show", PROJECT_READER, "GET", "/os-snapshots/{snapshot_id}",
     "Show a volume snapshot (proxy)."),
    ("os-volumes:snapshots:create", PROJECT_MEMBER, "POST", "/os-snapshots", "Snapshot a volume (proxy)."),
    ("os-volumes:snapshots:delete", PROJECT_MEMBER, "DELETE", "/os-snapshots/{snapshot_id}",
     "Delete a volume snapshot (proxy)."),
    ("images:list", ANY_READER, "GET", "/images", "List images (proxy)."),
    ("images:show", ANY_READER, "GET", "/images/{image_id}", "Show an image or its metadata (proxy)."),
    ("images:update", PROJECT_MEMBER, "PUT", "/images/{image_id}/metadata", "Change an image's metadata (proxy)."),
    ("images:delete", PROJECT_MEMBER, "DELETE", "/images/{image_id}", "Delete an image (proxy)."),
    ("ips:index", PROJECT_READER, "GET", "/servers/{server_id}/ips", "List a server's addresses."),
    ("ips:show", PROJECT_READER, "GET", "/servers/{server_id}/ips/{network_label}",
     "List a server's addresses on one network."),
    ("os-deferred-delete:restore", PROJECT_MEMBER, "POST", "/servers/{server_id}/action (restore)",
     "Restore a soft-deleted server."),
    ("os-admin-actions:inject_network_info", ADMIN, "POST", "/servers/{server_id}/action (injectNetworkInfo)",
     "Have a server's host refresh its network information."),
)


RULES = [
    _rule("servers:create", PROJECT_MEMBER, "Create a server.", "POST", "/servers"),
    _rule("servers:create:zero_disk_flavor", ADMIN, "Boot an image-backed server with a flavor of zero root "
          "disk (its disk then grows to the image's size, beyond any quota); others must boot from a volume.",
          "POST", "/servers"),
    _rule("servers:index", PROJECT_READER, "List the project's servers.", "GET", "/servers"),
    _rule("servers:index:get_all_tenants", ADMIN, "List servers of every project.", "GET", "/servers"),
    _rule("servers:show", PROJECT_READER, "Show a server.", "GET", "/servers/{server_id}"),
    _rule("servers:show:host_status", ADMIN, "See the host_status of a server (2.16): UP, DOWN, MAINTENANCE, "
          "UNKNOWN or empty.", "GET", "/servers/{server_id}"),
    _rule("servers:show:host_status:unknown-only", ADMIN, "See a server's host_status only when it is UNKNOWN "
          "(its host stopped reporting); servers:show:host_status shows every status.", "GET", "/servers/{server_id}"),
    _rule("servers:update", PROJECT_MEMBER, "Rename or describe a server.", "PUT", "/servers/{server_id}"),
    _rule("servers:delete", PROJECT_MEMBER, "Delete a server.", "DELETE", "/servers/{server_id}"),
    _rule("servers:action", PROJECT_MEMBER, "Start, stop, reboot, pause, suspend or lock a server.",
          "POST", "/servers/{server_id}/action"),
    _rule("servers:unlock:override", ADMIN, "Unlock a server an admin locked.", "POST", "/servers/{server_id}/action"),
    _rule("servers:reset_state", ADMIN, "Force a server's vm_state (active or error) and clear its task.",
          "POST", "/servers/{server_id}/action"),
    _rule("os-create-backup", PROJECT_MEMBER, "Back a server up into a rotated series of images.",
          "POST", "/servers/{server_id}/action"),
    _rule("servers:migrate", ADMIN, "Cold-migrate a server to another host.", "POST", "/servers/{server_id}/action"),
    _rule("servers:migrate_live", ADMIN, "Live-migrate a server to another host.",
          "POST", "/servers/{server_id}/action"),
    _rule("servers:evacuate", ADMIN, "Rebuild a server of a failed host on another host.",
          "POST", "/servers/{server_id}/action"),
    _rule("os-server-external-events:create", f"({ADMIN}) or role:service",
          "Tell servers' hosts about events in other services.", "POST", "/os-server-external-events"),
    _rule("os-migrations:index", ADMIN, "List migrations.", "GET", "/os-migrations"),
    _rule("servers:force_delete", ADMIN, "Delete a server at once.", "POST", "/servers/{server_id}/action"),
    _rule("os-volumes-attachments:index", PROJECT_READER, "List the volumes attached to a server.",
          "GET", "/servers/{server_id}/os-volume_attachments"),
    _rule("os-volumes-attachments:show", PROJECT_READER, "Show a volume attached to a server.",
          "GET", "/servers/{server_id}/os-volume_attachments/{volume_id}"),
    _rule("os-volumes-attachments:create", PROJECT_MEMBER, "Attach a volume to a server.",
          "POST", "/servers/{server_id}/os-volume_attachments"),
    _rule("os-volumes-attachments:delete", PROJECT_MEMBER, "Detach a volume from a server.",
          "DELETE", "/servers/{server_id}/os-volume_attachments/{volume_id}"),
    _rule("os-volumes-attachments:update", PROJECT_MEMBER, "Change an attachment's delete_on_termination (2.85).",
          "PUT", "/servers/{server_id}/os-volume_attachments/{volume_id}"),
    _rule("os-volumes-attachments:swap", ADMIN, "Swap an attached volume for another.",
          "PUT", "/servers/{server_id}/os-volume_attachments/{volume_id}"),
    _rule("os-instance-actions", PROJECT_READER, "List a server's actions.",
          "GET", "/servers/{server_id}/os-instance-actions"),
    _rule("os-instance-actions:show", PROJECT_READER, "Show one of a server's actions.",
          "GET", "/servers/{server_id}/os-instance-actions/{request_id}"),
    _rule("os-flavor-manage", ADMIN, "Create or delete flavors and their extra specs and access.",
          "POST", "/flavors"),
    _rule("flavors", ANY_READER, "List and show flavors.", "GET", "/flavors"),
    *[_rule(name, check, description, method, path)
      for name, check, method, path, description in (*_PER_API, *_PROXIES)],
    *[_rule(f"os-aggregates:{name}", ADMIN, f"{what} host aggregates.", method, path)
      for name, what, method, path in (
          ("index", "List", "GET", "/os-aggregates"), ("create", "Create", "POST", "/os-aggregates"),
          ("show", "Show", "GET", "/os-aggregates/{aggregate_id}"),
          ("update", "Rename or re-zone", "PUT", "/os-aggregates/{aggregate_id}"),
          ("delete", "Delete", "DELETE", "/os-aggregates/{aggregate_id}"),
          ("add_host", "Add hosts to", "POST", "/os-aggregates/{aggregate_id}/action"),
          ("remove_host", "Remove hosts from", "POST", "/os-aggregates/{aggregate_id}/action"),
          ("set_metadata", "Set metadata of", "POST", "/os-aggregates/{aggregate_id}/action"))],
    _rule("os-availability-zone:list", ANY_READER, "List availability zones.", "GET", "/os-availability-zone"),
    _rule("os-availability-zone:detail", ADMIN, "List availability zones with their hosts.",
          "GET", "/os-availability-zone/detail"),
    _rule("limits", ANY_READER, "Show the project's limits and usage.", "GET", "/limits"),
    _rule("os-remote-consoles", PROJECT_MEMBER, "Open a remote console (noVNC, SPICE, serial) of a server.",
          "POST", "/servers/{server_id}/remote-consoles"),
    _rule("os-console-auth-tokens", ADMIN, "Show what a remote console token grants (host, port).",
          "GET", "/os-console-auth-tokens/{console_token}"),
    _rule("os-rescue", PROJECT_MEMBER, "Boot a server from a rescue image.", "POST", "/servers/{server_id}/action"),
    _rule("os-unrescue", PROJECT_MEMBER, "Boot a rescued server from its own disk again.",
          "POST", "/servers/{server_id}/action"),
    _rule("servers:trigger_crash_dump", PROJECT_MEMBER, "Inject an NMI into a server (2.17).",
          "POST", "/servers/{server_id}/action"),
    _rule("os-server-diagnostics", ADMIN, "Show a running server's hypervisor counters.",
          "GET", "/servers/{server_id}/diagnostics"),
    _rule("os-admin-password", PROJECT_MEMBER, "Change a server's admin password through its guest agent.",
          "POST", "/servers/{server_id}/action"),
    _rule("os-server-password:show", PROJECT_READER, "Show the encrypted admin password a server's guest posted.",
          "GET", "/servers/{server_id}/os-server-password"),
    _rule("os-server-password:clear", PROJECT_MEMBER, "Clear a server's encrypted admin password.",
          "DELETE", "/servers/{server_id}/os-server-password"),
    # Nubis' own: the scheduler's dry run (served here, answered by the scheduler over RPC).
    _rule("scheduler:explain", ADMIN, "Dry-run the scheduler for a flavor and see why hosts are rejected.",
          "POST", "/scheduler/explain"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
