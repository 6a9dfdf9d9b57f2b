"""Conformance with Keystone where Tempest's identity tests look: name clashes, domain lifecycle, regions."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.cloud import Cloud

Call = Callable[..., requests.Response]


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Call:
    """Calls identity's API with a cloud admin's token."""
    token = ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, username="admin", password=cloud.admin.password, user_domain_id="default",
        project_name="admin", project_domain_id="default")).get_token()
    root = cloud.auth_url.rsplit("/v3", 1)[0]

    def call(method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(method, root + path, headers={"X-Auth-Token": token}, timeout=30, **kwargs)

    return call


def _name() -> str:
    return f"n-{uuid.uuid4().hex[:10]}"


def _created(resp: requests.Response, kind: str) -> dict:
    assert resp.status_code == 201, resp.text
    return resp.json()[kind]


def _assert_conflict(resp: requests.Response) -> None:
    assert resp.status_code == 409, resp.text
    error = resp.json()["error"]
    assert error["code"] == 409 and error["title"] == "Conflict"
    assert "Duplicate entry" in error["message"]


@pytest.mark.parametrize("kind", ["domain", "project", "user", "group", "role"])
def test_renaming_onto_an_existing_name_is_a_conflict(admin: Call, kind: str) -> None:
    taken = _name()
    _created(admin("POST", f"/v3/{kind}s", json={kind: {"name": taken}}), kind)
    other = _created(admin("POST", f"/v3/{kind}s", json={kind: {"name": _name()}}), kind)
    _assert_conflict(admin("PATCH", f"/v3/{kind}s/{other['id']}", json={kind: {"name": taken}}))
    # Nothing was stored: the entity keeps its name and can still be renamed to a free one.
    assert admin("GET", f"/v3/{kind}s/{other['id']}").json()[kind]["name"] == other["name"]
    free = _name()
    renamed = admin("PATCH", f"/v3/{kind}s/{other['id']}", json={kind: {"name": free}})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()[kind]["name"] == free


def test_domain_update_then_delete_only_once_disabled(admin: Call) -> None:
    domain = _created(admin("POST", "/v3/domains", json={"domain": {"name": _name()}}), "domain")
    updated = admin("PATCH", f"/v3/domains/{domain['id']}",
                    json={"domain": {"name": _name(), "description": "changed"}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["domain"]["description"] == "changed"
    refused = admin("DELETE", f"/v3/domains/{domain['id']}")
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["title"] == "Forbidden"
    disabled = admin("PATCH", f"/v3/domains/{domain['id']}", json={"domain": {"enabled": False}})
    assert disabled.json()["domain"]["enabled"] is False
    assert admin("DELETE", f"/v3/domains/{domain['id']}").status_code == 204
    assert admin("GET", f"/v3/domains/{domain['id']}").status_code == 404


def test_deleting_a_disabled_domain_takes_its_contents(admin: Call) -> None:
    domain = _created(admin("POST", "/v3/domains", json={"domain": {"name": _name()}}), "domain")
    did = domain["id"]
    parent = _created(admin("POST", "/v3/projects", json={"project": {"name": _name(), "domain_id": did}}), "project")
    child = _created(admin("POST", "/v3/projects", json={"project": {"name": _name(), "parent_id": parent["id"]}}),
                     "project")
    user = _created(admin("POST", "/v3/users", json={"user": {"name": _name(), "domain_id": did,
                                                                "password": "a-long-password-1"}}), "user")
    group = _created(admin("POST", "/v3/groups", json={"group": {"name": _name(), "domain_id": did}}), "group")
    domain_role = _created(admin("POST", "/v3/roles", json={"role": {"name": _name(), "domain_id": did}}), "role")
    member = admin("GET", "/v3/roles?name=member").json()["roles"][0]["id"]
    assert admin("PUT", f"/v3/groups/{group['id']}/users/{user['id']}").status_code == 204
    assert admin("PUT", f"/v3/projects/{child['id']}/users/{user['id']}/roles/{member}").status_code == 204
    assert admin("PUT", f"/v3/domains/{did}/groups/{group['id']}/roles/{member}").status_code == 204
    # A user of another domain holding a role on this domain's project loses only that grant.
    outsider = _created(admin("POST", "/v3/users", json={"user": {"name": _name()}}), "user")
    assert admin("PUT", f"/v3/projects/{parent['id']}/users/{outsider['id']}/roles/{member}").status_code == 204

    assert admin("PATCH", f"/v3/domains/{did}", json={"domain": {"enabled": False}}).status_code == 200
    assert admin("DELETE", f"/v3/domains/{did}").status_code == 204

    for path in (f"/v3/domains/{did}", f"/v3/projects/{parent['id']}", f"/v3/projects/{child['id']}",
                 f"/v3/users/{user['id']}", f"/v3/groups/{group['id']}", f"/v3/roles/{domain_role['id']}"):
        assert admin("GET", path).status_code == 404, path
    assert admin("GET", f"/v3/role_assignments?user.id={outsider['id']}").json()["role_assignments"] == []
    assert admin("GET", f"/v3/users/{outsider['id']}").status_code == 200
    # The name is free again.
    _created(admin("POST", "/v3/domains", json={"domain": {"name": domain["name"]}}), "domain")


def test_region_with_a_chosen_id(admin: Call) -> None:
    by_put = f"region-{uuid.uuid4().hex[:8]}"
    put = admin("PUT", f"/v3/regions/{by_put}", json={"region": {"description": "chosen by PUT"}})
    assert _created(put, "region")["id"] == by_put
    by_post = f"region-{uuid.uuid4().hex[:8]}"
    post = admin("POST", "/v3/regions", json={"region": {"id": by_post, "parent_region_id": by_put}})
    assert _created(post, "region")["parent_region_id"] == by_put
    shown = admin("GET", f"/v3/regions/{by_post}").json()["region"]
    assert shown["id"] == by_post and shown["parent_region_id"] == by_put
    assert admin("PUT", f"/v3/regions/{by_put}", json={"region": {}}).status_code == 409


def test_policies_crud_keeps_the_blob_opaque(admin: Call) -> None:
    blob = '{"compute:start": "rule:admin"}'
    created = _created(admin("POST", "/v3/policies", json={"policy": {"blob": blob, "type": "application/json",
                                                                        "note": "extra"}}), "policy")
    assert created["blob"] == blob and created["type"] == "application/json" and created["note"] == "extra"
    assert created["links"]["self"].endswith(f"/v3/policies/{created['id']}")
    listed = admin("GET", "/v3/policies?type=application/json").json()["policies"]
    assert created["id"] in [p["id"] for p in listed]
    updated = admin("PATCH", f"/v3/policies/{created['id']}", json={"policy": {"type": "text/plain"}})
    assert updated.status_code == 200 and updated.json()["policy"]["type"] == "text/plain"
    assert updated.json()["policy"]["blob"] == blob
    assert admin("GET", f"/v3/policies/{created['id']}").json()["policy"]["type"] == "text/plain"
    missing = admin("POST", "/v3/policies", json={"policy": {"type": "application/json"}})
    assert missing.status_code == 400 and "blob" in missing.json()["error"]["message"]
    assert admin("DELETE", f"/v3/policies/{created['id']}").status_code == 204
    assert admin("GET", f"/v3/policies/{created['id']}").status_code == 404


def test_ec2_credentials_of_a_user(cloud: Cloud, admin: Call) -> None:
    user = cloud.new_user()
    root = cloud.auth_url.rsplit("/v3", 1)[0]
    token = ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, user_id=user.user_id, password=user.password,
        project_id=user.project_id)).get_token()

    def mine(method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(method, f"{root}/v3/users/{user.user_id}/credentials/OS-EC2{path}",
                                headers={"X-Auth-Token": token}, timeout=30, **kwargs)

    created = mine("POST", "", json={"tenant_id": user.project_id})
    assert created.status_code == 201, created.text
    cred = created.json()["credential"]
    assert cred["user_id"] == user.user_id and cred["tenant_id"] == user.project_id
    assert cred["access"] and cred["secret"] and cred["trust_id"] is None
    assert [c["access"] for c in mine("GET", "").json()["credentials"]] == [cred["access"]]
    assert mine("GET", f"/{cred['access']}").json()["credential"]["secret"] == cred["secret"]
    # The same credential, as a credential of type ec2 whose id is the access key's SHA-256.
    general = admin("GET", f"/v3/credentials?user_id={user.user_id}&type=ec2").json()["credentials"]
    assert [c["id"] for c in general] == [hashlib.sha256(cred["access"].encode()).hexdigest()]
    assert mine("POST", "", json={"tenant_id": "no-such-project"}).status_code == 404
    assert mine("POST", "", json={}).status_code == 400
    # Another user neither sees nor deletes it.
    other = cloud.new_user()
    other_token = ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, user_id=other.user_id, password=other.password,
        project_id=other.project_id)).get_token()
    peek = requests.get(f"{root}/v3/users/{user.user_id}/credentials/OS-EC2/{cred['access']}",
                        headers={"X-Auth-Token": other_token}, timeout=30)
    assert peek.status_code == 403
    assert mine("DELETE", f"/{cred['access']}").status_code == 204
    assert mine("GET", f"/{cred['access']}").status_code == 404


def test_unified_limits(cloud: Cloud, admin: Call) -> None:
    assert admin("GET", "/v3/limits/model").json()["model"]["name"] == "flat"
    service = admin("GET", "/v3/services").json()["services"][0]["id"]
    resource = f"cores-{uuid.uuid4().hex[:6]}"
    made = admin("POST", "/v3/registered_limits", json={"registered_limits": [
        {"service_id": service, "resource_name": resource, "default_limit": 10, "description": "cores"}]})
    assert made.status_code == 201, made.text
    registered = made.json()["registered_limits"][0]
    assert registered["default_limit"] == 10 and registered["region_id"] is None
    again = admin("POST", "/v3/registered_limits", json={"registered_limits": [
        {"service_id": service, "resource_name": resource, "default_limit": 5}]})
    assert again.status_code == 409
    bad = admin("POST", "/v3/registered_limits", json={"registered_limits": [
        {"service_id": service, "resource_name": resource, "default_limit": "many"}]})
    assert bad.status_code == 400 and "default_limit" in bad.json()["error"]["message"]
    patched = admin("PATCH", f"/v3/registered_limits/{registered['id']}", json={"registered_limit": {
        "default_limit": 20}})
    assert patched.json()["registered_limit"]["default_limit"] == 20

    user = cloud.new_user()
    unregistered = admin("POST", "/v3/limits", json={"limits": [
        {"service_id": service, "project_id": user.project_id, "resource_name": "nothing-" + resource,
         "resource_limit": 3}]})
    assert unregistered.status_code == 403
    created = admin("POST", "/v3/limits", json={"limits": [
        {"service_id": service, "project_id": user.project_id, "resource_name": resource, "resource_limit": 3}]})
    assert created.status_code == 201, created.text
    limit = created.json()["limits"][0]
    assert limit["project_id"] == user.project_id and limit["resource_limit"] == 3
    # The project's member reads its own limit; a member of another project sees none of it.
    root = cloud.auth_url.rsplit("/v3", 1)[0]
    own = ks_session.Session(auth=v3.Password(auth_url=cloud.auth_url, user_id=user.user_id, password=user.password,
                                              project_id=user.project_id)).get_token()
    other_user = cloud.new_user()
    other = ks_session.Session(auth=v3.Password(auth_url=cloud.auth_url, user_id=other_user.user_id,
                                                password=other_user.password,
                                                project_id=other_user.project_id)).get_token()
    assert requests.get(f"{root}/v3/limits/{limit['id']}", headers={"X-Auth-Token": own}, timeout=30).ok
    assert requests.get(f"{root}/v3/limits/{limit['id']}", headers={"X-Auth-Token": other},
                        timeout=30).status_code == 403
    listed = requests.get(f"{root}/v3/limits", headers={"X-Auth-Token": other}, timeout=30).json()["limits"]
    assert limit["id"] not in [x["id"] for x in listed]
    updated = admin("PATCH", f"/v3/limits/{limit['id']}", json={"limit": {"resource_limit": 4}})
    assert updated.json()["limit"]["resource_limit"] == 4
    assert admin("DELETE", f"/v3/registered_limits/{registered['id']}").status_code == 403  # still referred to
    assert admin("DELETE", f"/v3/limits/{limit['id']}").status_code == 204
    assert admin("DELETE", f"/v3/registered_limits/{registered['id']}").status_code == 204


def test_endpoint_groups_and_project_endpoints(cloud: Cloud, admin: Call) -> None:
    endpoints = admin("GET", "/v3/endpoints?interface=public").json()["endpoints"]
    public = sorted(e["id"] for e in admin("GET", "/v3/endpoints").json()["endpoints"] if e["interface"] == "public")
    assert endpoints
    created = admin("POST", "/v3/OS-EP-FILTER/endpoint_groups", json={"endpoint_group": {
        "name": _name(), "filters": {"interface": "public"}}})
    group = _created(created, "endpoint_group")
    gid = group["id"]
    assert group["filters"] == {"interface": "public"}
    members = admin("GET", f"/v3/OS-EP-FILTER/endpoint_groups/{gid}/endpoints").json()["endpoints"]
    assert sorted(e["id"] for e in members) == public
    bad = admin("POST", "/v3/OS-EP-FILTER/endpoint_groups", json={"endpoint_group": {
        "name": _name(), "filters": {"colour": "blue"}}})
    assert bad.status_code == 400
    assert admin("HEAD", f"/v3/OS-EP-FILTER/endpoint_groups/{gid}").status_code == 200
    renamed = admin("PATCH", f"/v3/OS-EP-FILTER/endpoint_groups/{gid}", json={"endpoint_group": {"name": "renamed"}})
    assert renamed.json()["endpoint_group"]["name"] == "renamed"

    project = _created(admin("POST", "/v3/projects", json={"project": {"name": _name()}}), "project")["id"]
    link = f"/v3/OS-EP-FILTER/endpoint_groups/{gid}/projects/{project}"
    assert admin("GET", link).status_code == 404
    assert admin("PUT", link).status_code == 204
    assert admin("GET", link).status_code == 200
    assert [p["id"] for p in admin("GET", f"/v3/OS-EP-FILTER/endpoint_groups/{gid}/projects").json()["projects"]] \
        == [project]
    assert [g["id"] for g in admin("GET", f"/v3/OS-EP-FILTER/projects/{project}/endpoint_groups")
            .json()["endpoint_groups"]] == [gid]
    assert admin("DELETE", link).status_code == 204

    endpoint = public[0]
    pe = f"/v3/OS-EP-FILTER/projects/{project}/endpoints/{endpoint}"
    assert admin("HEAD", pe).status_code == 404
    assert admin("PUT", pe).status_code == 204
    assert admin("HEAD", pe).status_code == 204
    assert [e["id"] for e in admin("GET", f"/v3/OS-EP-FILTER/projects/{project}/endpoints").json()["endpoints"]] \
        == [endpoint]
    assert project in [p["id"] for p in admin("GET", f"/v3/OS-EP-FILTER/endpoints/{endpoint}/projects")
                       .json()["projects"]]
    assert admin("PUT", f"/v3/OS-EP-FILTER/projects/{project}/endpoints/no-such").status_code == 404
    assert admin("DELETE", pe).status_code == 204
    assert admin("DELETE", f"/v3/OS-EP-FILTER/endpoint_groups/{gid}").status_code == 204
    assert admin("GET", f"/v3/OS-EP-FILTER/endpoint_groups/{gid}").status_code == 404


def test_domain_specific_configuration(admin: Call) -> None:
    default = admin("GET", "/v3/domains/config/default").json()["config"]
    assert default["identity"]["driver"] == "sql" and "url" in default["ldap"]
    assert admin("GET", "/v3/domains/config/ldap/default").json()["config"] == {"ldap": default["ldap"]}
    assert admin("GET", "/v3/domains/config/ldap/url/default").json()["config"] == {"url": default["ldap"]["url"]}
    assert admin("GET", "/v3/domains/config/nonsense/default").status_code == 403

    did = _created(admin("POST", "/v3/domains", json={"domain": {"name": _name()}}), "domain")["id"]
    base = f"/v3/domains/{did}/config"
    assert admin("GET", base).status_code == 404
    doc = {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://directory", "user_tree_dn": "ou=Users",
                                                    "password": "secret"}}
    created = admin("PUT", base, json={"config": doc})
    assert created.status_code == 201, created.text
    shown = created.json()["config"]
    assert shown["identity"] == {"driver": "ldap"} and shown["ldap"]["url"] == "ldap://directory"
    assert "password" not in shown["ldap"]  # sensitive: stored, never shown
    assert admin("PUT", base, json={"config": {"identity": {"driver": "bogus"}, "mystery": {"x": 1}}}).status_code == 403
    assert admin("GET", f"{base}/ldap").json()["config"] == {"ldap": {"url": "ldap://directory",
                                                                       "user_tree_dn": "ou=Users"}}
    assert admin("GET", f"{base}/ldap/url").json()["config"] == {"url": "ldap://directory"}
    grouped = admin("PATCH", f"{base}/identity", json={"config": {"identity": {"driver": "sql", "list_limit": 5}}})
    assert grouped.status_code == 200, grouped.text
    assert grouped.json()["config"]["identity"] == {"driver": "sql", "list_limit": 5}
    optioned = admin("PATCH", f"{base}/identity/driver", json={"config": {"driver": "ldap"}})
    assert optioned.json()["config"]["identity"]["driver"] == "ldap"
    assert admin("PATCH", f"{base}/identity", json={"config": {"ldap": {"url": "x"}}}).status_code == 400
    assert admin("DELETE", f"{base}/ldap/user_tree_dn").status_code == 204
    assert admin("GET", f"{base}/ldap/user_tree_dn").status_code == 404
    assert admin("DELETE", f"{base}/identity").status_code == 204
    assert "identity" not in admin("GET", base).json()["config"]
    assert admin("DELETE", base).status_code == 204
    assert admin("GET", base).status_code == 404


def test_federation_objects_crud(admin: Call) -> None:
    fed = "/v3/OS-FEDERATION"
    idp_id, mapping_id, sp_id = _name(), _name(), _name()
    made = admin("PUT", f"{fed}/identity_providers/{idp_id}", json={"identity_provider": {
        "remote_ids": [f"https://{idp_id}.example/idp"], "description": "campus"}})
    idp = _created(made, "identity_provider")
    assert idp["id"] == idp_id and idp["enabled"] is True and idp["remote_ids"] == [f"https://{idp_id}.example/idp"]
    # Without a domain_id, the provider gets a domain of its own (as in Keystone).
    assert admin("GET", f"/v3/domains/{idp['domain_id']}").json()["domain"]["name"] == idp_id
    assert admin("PUT", f"{fed}/identity_providers/{idp_id}", json={"identity_provider": {}}).status_code == 409
    taken = admin("PUT", f"{fed}/identity_providers/{_name()}", json={"identity_provider": {
        "domain_id": "default", "remote_ids": idp["remote_ids"]}})
    assert taken.status_code == 409
    assert admin("PATCH", f"{fed}/identity_providers/{idp_id}", json={"identity_provider": {
        "enabled": False}}).json()["identity_provider"]["enabled"] is False
    assert idp_id in [i["id"] for i in admin("GET", f"{fed}/identity_providers").json()["identity_providers"]]

    rules = [{"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "REMOTE_USER"}]}]
    mapping = _created(admin("PUT", f"{fed}/mappings/{mapping_id}", json={"mapping": {"rules": rules}}), "mapping")
    assert mapping["rules"] == rules
    assert admin("PUT", f"{fed}/mappings/{_name()}", json={"mapping": {"rules": [{"local": []}]}}).status_code == 400
    protocol = admin("PUT", f"{fed}/identity_providers/{idp_id}/protocols/saml2",
                     json={"protocol": {"mapping_id": mapping_id}})
    assert _created(protocol, "protocol")["mapping_id"] == mapping_id
    assert admin("PUT", f"{fed}/identity_providers/{idp_id}/protocols/oidc",
                 json={"protocol": {"mapping_id": "no-such-mapping"}}).status_code == 404
    listed = admin("GET", f"{fed}/identity_providers/{idp_id}/protocols").json()["protocols"]
    assert [p["id"] for p in listed] == ["saml2"]

    sp = _created(admin("PUT", f"{fed}/service_providers/{sp_id}", json={"service_provider": {
        "auth_url": "https://sp.example/v3/OS-FEDERATION/identity_providers/x/protocols/saml2/auth",
        "sp_url": "https://sp.example/Shibboleth.sso/SAML2/ECP"}}), "service_provider")
    assert sp["enabled"] is False and sp["relay_state_prefix"] == "ss:mem:"
    assert admin("PUT", f"{fed}/service_providers/{_name()}", json={"service_provider": {
        "sp_url": "https://x"}}).status_code == 400
    assert admin("PATCH", f"{fed}/service_providers/{sp_id}", json={"service_provider": {
        "enabled": True}}).json()["service_provider"]["enabled"] is True
    assert admin("PUT", f"{fed}/service_providers/bad%20id", json={"service_provider": {
        "auth_url": "https://a", "sp_url": "https://b"}}).status_code == 400

    assert admin("DELETE", f"{fed}/identity_providers/{idp_id}").status_code == 204
    assert admin("GET", f"{fed}/identity_providers/{idp_id}/protocols/saml2").status_code == 404
    for path in (f"{fed}/mappings/{mapping_id}", f"{fed}/service_providers/{sp_id}"):
        assert admin("DELETE", path).status_code == 204
        assert admin("GET", path).status_code == 404


def test_endpoint_with_the_legacy_region_field_makes_the_region(admin: Call) -> None:
    service = _created(admin("POST", "/v3/services", json={"service": {"type": f"t-{_name()}"}}), "service")
    region = f"region-{uuid.uuid4().hex[:8]}"
    endpoint = _created(admin("POST", "/v3/endpoints", json={"endpoint": {
        "service_id": service["id"], "interface": "public", "url": "http://127.0.0.1:1/", "region": region}}),
        "endpoint")
    assert endpoint["region_id"] == region
    assert admin("GET", f"/v3/regions/{region}").status_code == 200
    moved_to = f"region-{uuid.uuid4().hex[:8]}"
    patched = admin("PATCH", f"/v3/endpoints/{endpoint['id']}", json={"endpoint": {"region": moved_to}})
    assert patched.status_code == 200 and patched.json()["endpoint"]["region_id"] == moved_to
    # ``region_id`` names a region that must exist: nothing is made on the fly.
    missing = admin("POST", "/v3/endpoints", json={"endpoint": {
        "service_id": service["id"], "interface": "public", "url": "http://127.0.0.1:1/",
        "region_id": f"absent-{uuid.uuid4().hex[:8]}"}})
    assert 400 <= missing.status_code < 500, missing.text


@pytest.mark.parametrize("kind", ["group", "role"])
def test_extra_attributes_are_kept(admin: Call, kind: str) -> None:
    made = _created(admin("POST", f"/v3/{kind}s", json={kind: {"name": _name(), "project_id": "p1"}}), kind)
    assert made["project_id"] == "p1"
    patched = admin("PATCH", f"/v3/{kind}s/{made['id']}", json={kind: {"colour": "blue"}})
    assert patched.status_code == 200, patched.text
    shown = admin("GET", f"/v3/{kind}s/{made['id']}").json()[kind]
    assert shown["project_id"] == "p1" and shown["colour"] == "blue" and shown["id"] == made["id"]


def test_a_project_acting_as_a_domain(admin: Call) -> None:
    made = _created(admin("POST", "/v3/projects", json={"project": {
        "name": _name(), "domain_id": None, "is_domain": True}}), "project")
    assert made["is_domain"] is True
    listed = admin("GET", "/v3/projects", params={"is_domain": "true"}).json()["projects"]
    assert made["id"] in [p["id"] for p in listed]
    assert made["id"] in [d["id"] for d in admin("GET", "/v3/domains").json()["domains"]]
    shown = admin("GET", f"/v3/projects/{made['id']}")
    assert shown.status_code == 200 and shown.json()["project"]["is_domain"] is True
    # Deleting an enabled domain is refused, through either API; disabled, it goes.
    assert admin("DELETE", f"/v3/projects/{made['id']}").status_code in (400, 403)
    disabled = admin("PATCH", f"/v3/projects/{made['id']}", json={"project": {"enabled": False}})
    assert disabled.status_code == 200 and disabled.json()["project"]["enabled"] is False
    assert admin("DELETE", f"/v3/projects/{made['id']}").status_code == 204
    assert admin("GET", f"/v3/domains/{made['id']}").status_code == 404


def test_an_ec2_credential_can_rotate_its_keys_but_not_its_scope(admin: Call) -> None:
    me = admin("GET", "/v3/users", params={"name": "admin"}).json()["users"][0]["id"]
    project = admin("GET", "/v3/projects", params={"name": "admin"}).json()["projects"][0]["id"]
    blob = json.dumps({"access": _name(), "secret": "s1"})
    cred = _created(admin("POST", "/v3/credentials", json={"credential": {
        "user_id": me, "project_id": project, "type": "ec2", "blob": blob}}), "credential")
    rotated = admin("PATCH", f"/v3/credentials/{cred['id']}", json={"credential": {
        "blob": json.dumps({"access": "new-access", "secret": "s2"})}})
    assert rotated.status_code == 200, rotated.text
    assert json.loads(rotated.json()["credential"]["blob"])["access"] == "new-access"
    rescoped = admin("PATCH", f"/v3/credentials/{cred['id']}", json={"credential": {
        "blob": json.dumps({"access": "new-access", "secret": "s2", "trust_id": "t"})}})
    assert rescoped.status_code == 400 and "trust_id" in rescoped.json()["error"]["message"]
    not_json = admin("PATCH", f"/v3/credentials/{cred['id']}", json={"credential": {"blob": "nope"}})
    assert not_json.status_code == 400
    assert json.loads(admin("GET", f"/v3/credentials/{cred['id']}").json()["credential"]["blob"])["secret"] == "s2"


def test_domain_specific_roles_are_not_effective_but_what_they_imply_is(admin: Call) -> None:
    domain = _created(admin("POST", "/v3/domains", json={"domain": {"name": _name()}}), "domain")
    project = _created(admin("POST", "/v3/projects", json={"project": {
        "name": _name(), "domain_id": domain["id"]}}), "project")
    user = _created(admin("POST", "/v3/users", json={"user": {"name": _name(), "domain_id": domain["id"]}}), "user")
    local = _created(admin("POST", "/v3/roles", json={"role": {"name": _name(), "domain_id": domain["id"]}}), "role")
    implied = _created(admin("POST", "/v3/roles", json={"role": {"name": _name()}}), "role")
    assert admin("PUT", f"/v3/roles/{local['id']}/implies/{implied['id']}").status_code == 201
    assert admin("PUT", f"/v3/projects/{project['id']}/users/{user['id']}/roles/{local['id']}").status_code == 204
    params = {"scope.project.id": project["id"], "user.id": user["id"]}
    direct = admin("GET", "/v3/role_assignments", params=params).json()["role_assignments"]
    assert [a["role"]["id"] for a in direct] == [local["id"]]
    effective = admin("GET", "/v3/role_assignments", params={**params, "effective": ""}).json()["role_assignments"]
    assert [a["role"]["id"] for a in effective] == [implied["id"]]
    admin("PATCH", f"/v3/domains/{domain['id']}", json={"domain": {"enabled": False}})
    admin("DELETE", f"/v3/domains/{domain['id']}")
