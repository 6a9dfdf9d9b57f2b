"""The Identity v3 route table."""

from __future__ import annotations

from nubis.api import router
from nubis.identity.api import (
    auth,
    catalog,
    credentials,
    domain_config,
    ec2,
    endpoint_filter,
    federation,
    limits,
    oauth1,
    policy_blobs,
    resources,
    roles,
    trusts,
    users,
    versions,
)


def _grants() -> dict[str, dict[str, router.Handler]]:
    table: dict[str, dict[str, router.Handler]] = {}
    for target in ("project", "domain"):
        for actor in ("user", "group"):
            base = f"/v3/{target}s/{{{target}_id}}/{actor}s/{{{actor}_id}}/roles"
            table[base] = {"GET": roles.grant_list_handler(actor, target)}
            table[base + "/{role_id}"] = roles.grant_handlers(actor, target)
            inherit = f"/v3/OS-INHERIT/{target}s/{{{target}_id}}/{actor}s/{{{actor}_id}}/roles"
            table[inherit + "/inherited_to_projects"] = {"GET": roles.grant_list_handler(actor, target, True)}
            table[inherit + "/{role_id}/inherited_to_projects"] = roles.grant_handlers(actor, target, True)
    for actor in ("user", "group"):
        base = f"/v3/system/{actor}s/{{{actor}_id}}/roles"
        table[base] = {"GET": roles.grant_list_handler(actor, "system")}
        table[base + "/{role_id}"] = roles.grant_handlers(actor, "system")
    return table


def _put_member(create: router.Handler, get: router.Handler, update: router.Handler,
                delete: router.Handler) -> dict[str, router.Handler]:
    """A member path whose id the client picks: created by PUT, then GET, PATCH and DELETE."""
    return {"PUT": create, "GET": get, "PATCH": update, "DELETE": delete}


ROUTES: router.RouteTable = {
    "/": {"GET": versions.versions},
    "/v3": {"GET": versions.v3},
    "/v3/auth/tokens": {"POST": auth.issue, "GET": auth.validate, "HEAD": auth.check, "DELETE": auth.revoke},
    "/v3/auth/catalog": {"GET": auth.auth_catalog},
    "/v3/auth/projects": {"GET": auth.auth_projects},
    "/v3/auth/domains": {"GET": auth.auth_domains},
    "/v3/auth/system": {"GET": auth.auth_system},
    "/v3/domains": {"GET": resources.list_domains, "POST": resources.create_domain},
    "/v3/domains/{domain_id}": {"GET": resources.get_domain, "PATCH": resources.update_domain,
                                "DELETE": resources.delete_domain},
    "/v3/projects": {"GET": resources.list_projects, "POST": resources.create_project},
    "/v3/projects/{project_id}": {"GET": resources.get_project, "PATCH": resources.update_project,
                                  "DELETE": resources.delete_project},
    "/v3/projects/{project_id}/tags": {"GET": resources.list_tags, "PUT": resources.replace_tags,
                                       "DELETE": resources.delete_all_tags},
    "/v3/projects/{project_id}/tags/{tag}": {"GET": resources.check_tag, "PUT": resources.add_tag,
                                             "DELETE": resources.delete_tag},
    "/v3/users": {"GET": users.list_users, "POST": users.create_user},
    "/v3/users/{user_id}": {"GET": users.get_user, "PATCH": users.update_user, "DELETE": users.delete_user},
    "/v3/users/{user_id}/password": {"POST": users.change_password},
    "/v3/users/{user_id}/groups": {"GET": users.user_groups},
    "/v3/users/{user_id}/projects": {"GET": users.user_projects},
    "/v3/users/{user_id}/application_credentials": {"GET": credentials.list_app_creds,
                                                    "POST": credentials.create_app_cred},
    "/v3/users/{user_id}/application_credentials/{app_cred_id}": {"GET": credentials.get_app_cred,
                                                                  "DELETE": credentials.delete_app_cred},
    "/v3/users/{user_id}/access_rules": {"GET": credentials.list_access_rules},
    "/v3/users/{user_id}/access_rules/{access_rule_id}": {"GET": credentials.get_access_rule,
                                                        "DELETE": credentials.delete_access_rule},
    "/v3/groups": {"GET": users.list_groups, "POST": users.create_group},
    "/v3/groups/{group_id}": {"GET": users.get_group, "PATCH": users.update_group, "DELETE": users.delete_group},
    "/v3/groups/{group_id}/users": {"GET": users.group_users},
    "/v3/groups/{group_id}/users/{user_id}": {"PUT": users.add_member, "HEAD": users.check_member,
                                              "GET": users.check_member, "DELETE": users.remove_member},
    "/v3/roles": {"GET": roles.list_roles, "POST": roles.create_role},
    "/v3/roles/{role_id}": {"GET": roles.get_role, "PATCH": roles.update_role, "DELETE": roles.delete_role},
    "/v3/roles/{prior_role_id}/implies": {"GET": roles.list_implied},
    "/v3/roles/{prior_role_id}/implies/{implied_role_id}": {
        "PUT": roles.create_implied, "GET": roles.check_implied, "HEAD": roles.check_implied,
        "DELETE": roles.delete_implied},
    "/v3/role_inferences": {"GET": roles.list_inferences},
    "/v3/role_assignments": {"GET": roles.list_role_assignments},
    **_grants(),
    "/v3/regions": {"GET": catalog.list_regions, "POST": catalog.create_region},
    "/v3/regions/{region_id}": {"GET": catalog.get_region, "PATCH": catalog.update_region,
                                "DELETE": catalog.delete_region, "PUT": catalog.create_region},
    "/v3/services": {"GET": catalog.list_services, "POST": catalog.create_service},
    "/v3/services/{service_id}": {"GET": catalog.get_service, "PATCH": catalog.update_service,
                                  "DELETE": catalog.delete_service},
    "/v3/endpoints": {"GET": catalog.list_endpoints, "POST": catalog.create_endpoint},
    "/v3/endpoints/{endpoint_id}": {"GET": catalog.get_endpoint, "PATCH": catalog.update_endpoint,
                                    "DELETE": catalog.delete_endpoint},
    "/v3/credentials": {"GET": credentials.list_credentials, "POST": credentials.create_credential},
    "/v3/credentials/{credential_id}": {"GET": credentials.get_credential, "PATCH": credentials.update_credential,
                                        "DELETE": credentials.delete_credential},
    "/v3/users/{user_id}/credentials/OS-EC2": {"GET": ec2.list_ec2, "POST": ec2.create_ec2},
    "/v3/users/{user_id}/credentials/OS-EC2/{credential_id}": {"GET": ec2.get_ec2, "DELETE": ec2.delete_ec2},
    "/v3/OS-TRUST/trusts": {"GET": trusts.list_trusts, "POST": trusts.create_trust},
    "/v3/OS-TRUST/trusts/{trust_id}": {"GET": trusts.get_trust, "DELETE": trusts.delete_trust},
    "/v3/OS-TRUST/trusts/{trust_id}/roles": {"GET": trusts.list_trust_roles},
    "/v3/OS-TRUST/trusts/{trust_id}/roles/{role_id}": {"GET": trusts.get_trust_role, "HEAD": trusts.get_trust_role},
    "/v3/limits/model": {"GET": limits.limit_model},
    "/v3/registered_limits": {"GET": limits.list_registered, "POST": limits.create_registered},
    "/v3/registered_limits/{registered_limit_id}": {"GET": limits.get_registered, "PATCH": limits.update_registered,
                                                    "DELETE": limits.delete_registered},
    "/v3/limits": {"GET": limits.list_limits, "POST": limits.create_limits},
    "/v3/limits/{limit_id}": {"GET": limits.get_limit, "PATCH": limits.update_limit, "DELETE": limits.delete_limit},
    "/v3/OS-EP-FILTER/endpoint_groups": {"GET": endpoint_filter.list_groups, "POST": endpoint_filter.create_group},
    "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}": {
        "GET": endpoint_filter.get_group, "HEAD": endpoint_filter.get_group, "PATCH": endpoint_filter.update_group,
        "DELETE": endpoint_filter.delete_group},
    "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/endpoints": {"GET": endpoint_filter.group_endpoints},
    "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects": {"GET": endpoint_filter.group_projects},
    "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id}": {
        "PUT": endpoint_filter.add_group_project, "GET": endpoint_filter.check_group_project,
        "HEAD": endpoint_filter.check_group_project, "DELETE": endpoint_filter.remove_group_project},
    "/v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups": {"GET": endpoint_filter.project_groups},
    "/v3/OS-EP-FILTER/projects/{project_id}/endpoints": {"GET": endpoint_filter.project_endpoints},
    "/v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}": {
        "PUT": endpoint_filter.add_project_endpoint, "HEAD": endpoint_filter.check_project_endpoint,
        "DELETE": endpoint_filter.remove_project_endpoint},
    "/v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects": {"GET": endpoint_filter.endpoint_projects},
    "/v3/domains/{domain_id}/config": {"GET": domain_config.show, "PUT": domain_config.create,
                                       "PATCH": domain_config.update, "DELETE": domain_config.delete},
    "/v3/domains/{domain_id}/config/{group}": {"GET": domain_config.show, "PATCH": domain_config.update,
                                               "DELETE": domain_config.delete},
    "/v3/domains/{domain_id}/config/{group}/{option}": {"GET": domain_config.show, "PATCH": domain_config.update,
                                                        "DELETE": domain_config.delete},
    "/v3/domains/config/default": {"GET": domain_config.show_default},
    "/v3/domains/config/{group}/default": {"GET": domain_config.show_default},
    "/v3/domains/config/{group}/{option}/default": {"GET": domain_config.show_default},
    "/v3/OS-FEDERATION/identity_providers": {"GET": federation.list_idps},
    "/v3/OS-FEDERATION/identity_providers/{idp_id}": _put_member(
        federation.create_idp, federation.get_idp, federation.update_idp, federation.delete_idp),
    "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols": {"GET": federation.list_protocols},
    "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}": _put_member(
        federation.create_protocol, federation.get_protocol, federation.update_protocol, federation.delete_protocol),
    "/v3/OS-FEDERATION/mappings": {"GET": federation.list_mappings},
    "/v3/OS-FEDERATION/mappings/{mapping_id}": _put_member(
        federation.create_mapping, federation.get_mapping, federation.update_mapping, federation.delete_mapping),
    "/v3/OS-FEDERATION/service_providers": {"GET": federation.list_sps},
    "/v3/OS-FEDERATION/service_providers/{sp_id}": _put_member(
        federation.create_sp, federation.get_sp, federation.update_sp, federation.delete_sp),
    "/v3/OS-OAUTH1/consumers": {"GET": oauth1.list_consumers, "POST": oauth1.create_consumer},
    "/v3/OS-OAUTH1/consumers/{consumer_id}": {"GET": oauth1.get_consumer, "PATCH": oauth1.update_consumer,
                                              "DELETE": oauth1.delete_consumer},
    "/v3/OS-OAUTH1/request_token": {"POST": oauth1.create_request_token},
    "/v3/OS-OAUTH1/authorize/{request_token_id}": {"PUT": oauth1.authorize_request_token},
    "/v3/OS-OAUTH1/access_token": {"POST": oauth1.create_access_token},
    "/v3/users/{user_id}/OS-OAUTH1/access_tokens": {"GET": oauth1.list_access_tokens},
    "/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}": {"GET": oauth1.get_access_token,
                                                                      "DELETE": oauth1.delete_access_token},
    "/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles": {"GET": oauth1.list_access_token_roles},
    "/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles/{role_id}": {
        "GET": oauth1.get_access_token_role},
    "/v3/policies": {"GET": policy_blobs.list_policies, "POST": policy_blobs.create_policy},
    "/v3/policies/{policy_id}": {"GET": policy_blobs.get_policy, "PATCH": policy_blobs.update_policy,
                                 "DELETE": policy_blobs.delete_policy},
}
