"""Conformance with Keystone where Tempest's identity tests look: name clashes, domain lifecycle, regions."""

from __future__ import annotations

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
