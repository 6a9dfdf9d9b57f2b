"""Compute policy: project members manage their servers and keypairs; admins manage flavors and hosts."""

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


RULES = [
    _rule("servers:create", PROJECT_MEMBER, "Create a server.", "POST", "/servers"),
    _rule("servers:index", PROJECT_READER, "List the project's servers.", "GET", "/servers"),
    _rule("servers:index:get_all_tenants", ADMIN, "List servers of every project.", "GET", "/servers"),
    _rule("servers:show", PROJECT_READER, "Show a server.", "GET", "/servers/{server_id}"),
    _rule("servers:show:host_status", ADMIN, "See the host and hypervisor of a server.",
          "GET", "/servers/{server_id}"),
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
    _rule("os-instance-actions", PROJECT_READER, "List a server's actions.",
          "GET", "/servers/{server_id}/os-instance-actions"),
    _rule("os-flavor-manage", ADMIN, "Create or delete flavors and their extra specs and access.",
          "POST", "/flavors"),
    _rule("flavors", ANY_READER, "List and show flavors.", "GET", "/flavors"),
    _rule("os-keypairs", OWNER_USER, "Create, list, show and delete the user's keypairs.", "GET", "/os-keypairs"),
    _rule("os-server-groups", PROJECT_MEMBER, "Create, list, show and delete the project's server groups.",
          "POST", "/os-server-groups"),
    _rule("os-services", ADMIN, "List and change compute services.", "GET", "/os-services"),
    _rule("os-hypervisors", ADMIN, "List and show hypervisors.", "GET", "/os-hypervisors"),
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
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
