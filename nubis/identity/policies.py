"""Identity's policy rules with the default personas (doc/personas.md).

- Cloud admin: ``admin`` with a system-scoped token, or with a token scoped
  to the cloud-admin project (``[resource] admin_project_name``, the
  bootstrap's ``admin`` project; the token says ``is_admin_project``).
  ``admin`` on any other project makes no one a cloud admin.
- Domain manager: ``admin`` or ``manager`` with a token scoped to a domain.
  Manages users, groups, projects and grants inside that domain only; may
  grant only ``manager``, ``member`` and ``reader`` (never ``admin``, never
  system roles) and may not touch users or groups holding ``admin`` or a
  system role.
- ``reader`` reads what the same scope may manage; everyone may manage their
  own password, application credentials and tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from oslo_policy import policy

from nubis.common import policy as nubis_policy


@policy.register("token_scope")
class TokenScopeCheck(policy.Check):
    """``token_scope:project|domain|system``: the kind of scope the caller's token has."""

    def __call__(self, target: Mapping[str, Any], creds: MutableMapping[str, Any], enforcer: Any,
                 current_rule: str | None = None) -> bool:
        if creds.get("system_scope") == "all":
            scope = "system"
        elif creds.get("project_id"):
            scope = "project"
        elif creds.get("domain_id"):
            scope = "domain"
        else:
            scope = "unscoped"
        return scope == self.match


CLOUD_ADMIN = "role:admin and (token_scope:system or (token_scope:project and is_admin_project:True))"
CLOUD_READER = f"(role:reader and token_scope:system) or ({CLOUD_ADMIN})"
# Roles a domain manager may grant (Keystone's domain_managed_target_role).
DOMAIN_MANAGED_ROLES = ("manager", "member", "reader")
GRANTABLE_BY_DOMAIN = " or ".join(f"'{r}':%(target.role.name)s" for r in DOMAIN_MANAGED_ROLES)
# Set by the handlers: whether the user or group holds admin anywhere or any system role.
NOT_PRIVILEGED = "'False':%(target.privileged)s"


def domain_admin(field: str) -> str:
    return f"((role:admin or role:manager) and token_scope:domain and domain_id:%({field})s)"


def domain_admin_of_unprivileged(field: str) -> str:
    return f"({CLOUD_ADMIN}) or ({domain_admin(field)} and {NOT_PRIVILEGED})"


def domain_reader(field: str) -> str:
    return f"(role:reader and token_scope:domain and domain_id:%({field})s)"


def admin_or_domain_admin(field: str) -> str:
    return f"({CLOUD_ADMIN}) or {domain_admin(field)}"


def reader_or_domain_reader(field: str) -> str:
    return f"({CLOUD_READER}) or {domain_reader(field)}"


OWNER = "user_id:%(target.user.id)s"
TRUSTOR = "user_id:%(target.trust.trustor_user_id)s"
TRUSTEE = "user_id:%(target.trust.trustee_user_id)s"
ALL_SCOPES = ["system", "domain", "project"]
# Keystone's admin_required for a user's OAuth1 access tokens, confined to the user's own unless a cloud admin.
ACCESS_TOKEN_OWNER = f"({CLOUD_ADMIN}) or (role:admin and {OWNER})"


def _rule(name: str, check: str, description: str, ops: list[tuple[str, str]]) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=f"identity:{name}", check_str=check, description=description,
        operations=[{"method": m, "path": p} for m, p in ops], scope_types=ALL_SCOPES,
    )


RULES = [
    _rule("list_domains", CLOUD_READER, "List domains.", [("GET", "/v3/domains")]),
    _rule("get_domain", f"({CLOUD_READER}) or domain_id:%(target.domain.id)s or "
          "project_domain_id:%(target.domain.id)s",
          "Show a domain.", [("GET", "/v3/domains/{domain_id}")]),
    _rule("create_domain", CLOUD_ADMIN, "Create a domain.", [("POST", "/v3/domains")]),
    _rule("update_domain", CLOUD_ADMIN, "Update a domain.", [("PATCH", "/v3/domains/{domain_id}")]),
    _rule("delete_domain", CLOUD_ADMIN, "Delete a domain.", [("DELETE", "/v3/domains/{domain_id}")]),
    _rule("list_projects", reader_or_domain_reader("target.domain_id"), "List projects.", [("GET", "/v3/projects")]),
    _rule("get_project", f"({reader_or_domain_reader('target.project.domain_id')}) or project_id:%(target.project.id)s",
          "Show a project.", [("GET", "/v3/projects/{project_id}")]),
    _rule("create_project", admin_or_domain_admin("target.project.domain_id"), "Create a project.",
          [("POST", "/v3/projects")]),
    _rule("update_project", admin_or_domain_admin("target.project.domain_id"), "Update a project or its tags.",
          [("PATCH", "/v3/projects/{project_id}")]),
    _rule("delete_project", admin_or_domain_admin("target.project.domain_id"), "Delete a project.",
          [("DELETE", "/v3/projects/{project_id}")]),
    _rule("list_users", reader_or_domain_reader("target.domain_id"), "List users.", [("GET", "/v3/users")]),
    _rule("get_user", f"({reader_or_domain_reader('target.user.domain_id')}) or {OWNER}", "Show a user.",
          [("GET", "/v3/users/{user_id}")]),
    _rule("create_user", admin_or_domain_admin("target.user.domain_id"), "Create a user.", [("POST", "/v3/users")]),
    _rule("update_user", domain_admin_of_unprivileged("target.user.domain_id"), "Update a user.",
          [("PATCH", "/v3/users/{user_id}")]),
    _rule("delete_user", domain_admin_of_unprivileged("target.user.domain_id"), "Delete a user.",
          [("DELETE", "/v3/users/{user_id}")]),
    _rule("list_user_projects", f"({reader_or_domain_reader('target.user.domain_id')}) or {OWNER}",
          "List a user's projects.", [("GET", "/v3/users/{user_id}/projects")]),
    _rule("list_groups_for_user", f"({reader_or_domain_reader('target.user.domain_id')}) or {OWNER}",
          "List a user's groups.", [("GET", "/v3/users/{user_id}/groups")]),
    _rule("list_groups", reader_or_domain_reader("target.domain_id"), "List groups.", [("GET", "/v3/groups")]),
    _rule("get_group", reader_or_domain_reader("target.group.domain_id"), "Show a group or its members.",
          [("GET", "/v3/groups/{group_id}")]),
    _rule("manage_group", domain_admin_of_unprivileged("target.group.domain_id"),
          "Create, update or delete a group, or change its members.", [("POST", "/v3/groups")]),
    _rule("list_roles", f"({CLOUD_READER}) or (role:reader and token_scope:domain)", "List or show roles.",
          [("GET", "/v3/roles")]),
    _rule("manage_role", CLOUD_ADMIN, "Create, update or delete roles and implied roles.", [("POST", "/v3/roles")]),
    _rule("check_grant", reader_or_domain_reader("target.domain_id"), "Check or list role grants.",
          [("GET", "/v3/projects/{project_id}/users/{user_id}/roles")]),
    _rule("manage_grant", f"({CLOUD_ADMIN}) or ({domain_admin('target.domain_id')} and ({GRANTABLE_BY_DOMAIN}))",
          "Grant or revoke a role (a domain manager: only manager, member or reader, in its domain).",
          [("PUT", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")]),
    _rule("list_role_assignments", reader_or_domain_reader("target.domain_id"), "List role assignments.",
          [("GET", "/v3/role_assignments")]),
    _rule("get_catalog_entity", "", "Show regions, services and endpoints.", [("GET", "/v3/regions")]),
    _rule("manage_catalog", CLOUD_ADMIN, "Create, update or delete regions, services and endpoints.",
          [("POST", "/v3/services")]),
    _rule("get_policy", CLOUD_READER, "List or show policy documents.", [("GET", "/v3/policies")]),
    _rule("manage_policy", CLOUD_ADMIN, "Create, update or delete policy documents.", [("POST", "/v3/policies")]),
    _rule("create_trust", "user_id:%(target.trust.trustor_user_id)s", "Create a trust (as its trustor).",
          [("POST", "/v3/OS-TRUST/trusts")]),
    _rule("list_trusts", CLOUD_READER, "List every trust.", [("GET", "/v3/OS-TRUST/trusts")]),
    _rule("list_trusts_for_trustor", f"({CLOUD_READER}) or {TRUSTOR}", "List the trusts of a trustor.",
          [("GET", "/v3/OS-TRUST/trusts?trustor_user_id={trustor_user_id}")]),
    _rule("list_trusts_for_trustee", f"({CLOUD_READER}) or {TRUSTEE}", "List the trusts of a trustee.",
          [("GET", "/v3/OS-TRUST/trusts?trustee_user_id={trustee_user_id}")]),
    _rule("get_trust", f"({CLOUD_READER}) or {TRUSTOR} or {TRUSTEE}", "Show a trust or its roles.",
          [("GET", "/v3/OS-TRUST/trusts/{trust_id}")]),
    _rule("delete_trust", f"({CLOUD_ADMIN}) or {TRUSTOR}", "Delete a trust.",
          [("DELETE", "/v3/OS-TRUST/trusts/{trust_id}")]),
    _rule("get_limit_model", "", "Show the limit enforcement model.", [("GET", "/v3/limits/model")]),
    _rule("get_registered_limit", "", "List or show registered limits.", [("GET", "/v3/registered_limits")]),
    _rule("manage_registered_limit", CLOUD_ADMIN, "Create, update or delete registered limits.",
          [("POST", "/v3/registered_limits")]),
    _rule("get_limit", f"({CLOUD_READER}) or project_id:%(target.limit.project_id)s or "
          f"{domain_reader('target.limit.domain_id')} or {domain_admin('target.limit.domain_id')}",
          "Show a limit (lists show the limits this allows).", [("GET", "/v3/limits/{limit_id}")]),
    _rule("manage_limit", CLOUD_ADMIN, "Create, update or delete limits.", [("POST", "/v3/limits")]),
    _rule("get_endpoint_filter", CLOUD_READER, "Read endpoint groups and project endpoint associations.",
          [("GET", "/v3/OS-EP-FILTER/endpoint_groups")]),
    _rule("manage_endpoint_filter", CLOUD_ADMIN, "Change endpoint groups and project endpoint associations.",
          [("POST", "/v3/OS-EP-FILTER/endpoint_groups")]),
    _rule("get_domain_config", CLOUD_READER, "Show a domain's configuration or the default one.",
          [("GET", "/v3/domains/{domain_id}/config")]),
    _rule("manage_domain_config", CLOUD_ADMIN, "Create, update or delete a domain's configuration.",
          [("PUT", "/v3/domains/{domain_id}/config")]),
    _rule("get_federation", CLOUD_READER, "Read identity providers, mappings, protocols and service providers.",
          [("GET", "/v3/OS-FEDERATION/identity_providers")]),
    _rule("manage_federation", CLOUD_ADMIN,
          "Create, update or delete identity providers, mappings, protocols and service providers.",
          [("PUT", "/v3/OS-FEDERATION/identity_providers/{idp_id}")]),
    # OS-OAUTH1 as Keystone's defaults: consumers are the cloud's to manage (readers may look); authorizing a
    # request token takes admin (the handler then checks the roles are the caller's on the project); a
    # user's access tokens are read and deleted by an admin among their own, or by the cloud admin.
    _rule("list_consumers", CLOUD_READER, "List OAuth1 consumers.", [("GET", "/v3/OS-OAUTH1/consumers")]),
    _rule("get_consumer", CLOUD_READER, "Show an OAuth1 consumer.", [("GET", "/v3/OS-OAUTH1/consumers/{consumer_id}")]),
    _rule("create_consumer", CLOUD_ADMIN, "Create an OAuth1 consumer.", [("POST", "/v3/OS-OAUTH1/consumers")]),
    _rule("update_consumer", CLOUD_ADMIN, "Update an OAuth1 consumer.",
          [("PATCH", "/v3/OS-OAUTH1/consumers/{consumer_id}")]),
    _rule("delete_consumer", CLOUD_ADMIN, "Delete an OAuth1 consumer (and revoke its tokens).",
          [("DELETE", "/v3/OS-OAUTH1/consumers/{consumer_id}")]),
    _rule("authorize_request_token", "role:admin", "Authorize an OAuth1 request token with one's own roles.",
          [("PUT", "/v3/OS-OAUTH1/authorize/{request_token_id}")]),
    _rule("list_access_tokens", ACCESS_TOKEN_OWNER, "List a user's OAuth1 access tokens.",
          [("GET", "/v3/users/{user_id}/OS-OAUTH1/access_tokens")]),
    _rule("get_access_token", ACCESS_TOKEN_OWNER, "Show a user's OAuth1 access token.",
          [("GET", "/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}")]),
    _rule("delete_access_token", ACCESS_TOKEN_OWNER, "Delete a user's OAuth1 access token (and revoke its tokens).",
          [("DELETE", "/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}")]),
    _rule("list_access_token_roles", ACCESS_TOKEN_OWNER, "List the roles of a user's OAuth1 access token.",
          [("GET", "/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles")]),
    _rule("get_access_token_role", ACCESS_TOKEN_OWNER, "Show a role of a user's OAuth1 access token.",
          [("GET", "/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles/{role_id}")]),
    _rule("validate_token", f"role:service or ({CLOUD_ADMIN}) or user_id:%(target.token.user_id)s",
          "Validate a token.", [("GET", "/v3/auth/tokens")]),
    _rule("revoke_token", f"({CLOUD_ADMIN}) or user_id:%(target.token.user_id)s", "Revoke a token.",
          [("DELETE", "/v3/auth/tokens")]),
    _rule("manage_own", f"({CLOUD_ADMIN}) or {OWNER}",
          "Application credentials and credentials of a user (the user, or the cloud admin).",
          [("GET", "/v3/users/{user_id}/application_credentials")]),
]


def list_rules() -> list[policy.RuleDefault]:
    """Entry point ``oslo.policy.policies``: identity's defaults."""
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
