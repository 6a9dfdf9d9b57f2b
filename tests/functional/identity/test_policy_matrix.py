"""Who may do what: every default persona against the identity API, over HTTP.

Personas are real users with real role assignments and tokens of the scope the
persona is about; each row of the matrix names the personas that must be
allowed, and every other persona must get 403.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.cloud import Cloud

PERSONAS = ("system_admin", "system_reader", "admin_project_admin", "domain_admin", "domain_manager",
            "domain_reader", "project_admin", "project_member", "project_reader", "other_domain_admin")


@dataclasses.dataclass
class World:
    cloud: Cloud
    tokens: dict[str, str]
    ids: dict[str, str]

    def call(self, persona: str, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return requests.request(method, _root(self.cloud) + path, json=body, timeout=20,
                                headers={"X-Auth-Token": self.tokens[persona]})


def _root(cloud: Cloud) -> str:
    return cloud.auth_url.rsplit("/v3", 1)[0]


def _admin_call(cloud: Cloud, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    resp = requests.request(method, _root(cloud) + path, json=body, timeout=20, headers={"X-Auth-Token": token})
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


@pytest.fixture(scope="module")
def world(cloud: Cloud) -> World:
    admin = ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, username="admin", password=cloud.admin.password, user_domain_id="default",
        project_name="admin", project_domain_id="default")).get_token()

    def create(path: str, key: str, **fields: Any) -> str:
        return _admin_call(cloud, admin, "POST", path, {key: fields})[key]["id"]

    suffix = uuid.uuid4().hex[:8]
    ids = {"domain": create("/v3/domains", "domain", name=f"dom-{suffix}"),
           "other_domain": create("/v3/domains", "domain", name=f"other-{suffix}")}
    ids["project"] = create("/v3/projects", "project", name=f"proj-{suffix}", domain_id=ids["domain"])
    ids["admin_project"] = _admin_call(cloud, admin, "GET", "/v3/projects?name=admin")["projects"][0]["id"]
    roles = {r["name"]: r["id"] for r in _admin_call(cloud, admin, "GET", "/v3/roles")["roles"]}
    password = uuid.uuid4().hex
    # persona -> (user's domain, where the role is granted, role, token scope)
    layout: dict[str, tuple[str, str, str]] = {
        "system_admin": ("domain", "system", "admin"),
        "system_reader": ("domain", "system", "reader"),
        "admin_project_admin": ("domain", "admin_project", "admin"),
        "domain_admin": ("domain", "domain", "admin"),
        "domain_manager": ("domain", "domain", "manager"),
        "domain_reader": ("domain", "domain", "reader"),
        "project_admin": ("domain", "project", "admin"),
        "project_member": ("domain", "project", "member"),
        "project_reader": ("domain", "project", "reader"),
        "other_domain_admin": ("other_domain", "other_domain", "admin"),
    }
    tokens: dict[str, str] = {}
    for persona, (home, target, role) in layout.items():
        user_id = create("/v3/users", "user", name=f"{persona}-{suffix}", domain_id=ids[home], password=password)
        ids[persona] = user_id
        if target == "system":
            grant = f"/v3/system/users/{user_id}/roles/{roles[role]}"
            scope: dict[str, Any] = {"system_scope": "all"}
        elif target in ("project", "admin_project"):
            grant = f"/v3/projects/{ids[target]}/users/{user_id}/roles/{roles[role]}"
            scope = {"project_id": ids[target]}
        else:
            grant = f"/v3/domains/{ids[target]}/users/{user_id}/roles/{roles[role]}"
            scope = {"domain_id": ids[target]}
        _admin_call(cloud, admin, "PUT", grant)
        tokens[persona] = ks_session.Session(auth=v3.Password(
            auth_url=cloud.auth_url, user_id=user_id, password=password, **scope)).get_token()
    ids.update({f"role:{name}": role_id for name, role_id in roles.items()})
    ids["password"] = password
    return World(cloud, tokens, ids)


def _name() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


Request = Callable[[World], tuple[str, str, dict[str, Any] | None]]

# admin on an ordinary project is no cloud admin; admin on the cloud-admin project is (doc/personas.md).
READERS = {"system_admin", "system_reader", "admin_project_admin"}
DOMAIN_READERS = READERS | {"domain_admin", "domain_manager", "domain_reader"}
CLOUD_ADMINS = {"system_admin", "admin_project_admin"}
DOMAIN_ADMINS = CLOUD_ADMINS | {"domain_admin", "domain_manager"}
PROJECT_PEOPLE = {"project_admin", "project_member", "project_reader"}

# (row id, request, personas allowed)
MATRIX: list[tuple[str, Request, set[str]]] = [
    ("list domains", lambda w: ("GET", "/v3/domains", None), READERS),
    ("show own domain", lambda w: ("GET", f"/v3/domains/{w.ids['domain']}", None),
     DOMAIN_READERS | PROJECT_PEOPLE),
    ("create domain", lambda w: ("POST", "/v3/domains", {"domain": {"name": _name()}}), CLOUD_ADMINS),
    ("list projects of the domain", lambda w: ("GET", f"/v3/projects?domain_id={w.ids['domain']}", None),
     DOMAIN_READERS),
    ("create project in the domain",
     lambda w: ("POST", "/v3/projects", {"project": {"name": _name(), "domain_id": w.ids["domain"]}}),
     DOMAIN_ADMINS),
    ("create project in another domain",
     lambda w: ("POST", "/v3/projects", {"project": {"name": _name(), "domain_id": w.ids["other_domain"]}}),
     CLOUD_ADMINS | {"other_domain_admin"}),
    ("list users of the domain", lambda w: ("GET", f"/v3/users?domain_id={w.ids['domain']}", None),
     DOMAIN_READERS),
    ("create user in the domain",
     lambda w: ("POST", "/v3/users", {"user": {"name": _name(), "domain_id": w.ids["domain"]}}), DOMAIN_ADMINS),
    ("show a member's user record", lambda w: ("GET", f"/v3/users/{w.ids['project_member']}", None),
     DOMAIN_READERS | {"project_member"}),
    ("list users of another domain", lambda w: ("GET", f"/v3/users?domain_id={w.ids['other_domain']}", None),
     READERS | {"other_domain_admin"}),
    ("grant member in the domain",
     lambda w: ("PUT", f"/v3/projects/{w.ids['project']}/users/{w.ids['project_reader']}/roles/{w.ids['role:member']}",
                None), DOMAIN_ADMINS),
    ("grant admin in the domain",
     lambda w: ("PUT", f"/v3/projects/{w.ids['project']}/users/{w.ids['domain_reader']}/roles/{w.ids['role:admin']}",
                None), CLOUD_ADMINS),
    ("grant a system role", lambda w: ("PUT", f"/v3/system/users/{w.ids['domain_reader']}/roles/"
                                             f"{w.ids['role:reader']}", None), {"system_admin", "admin_project_admin"}),
    ("update a cloud admin of the domain",
     lambda w: ("PATCH", f"/v3/users/{w.ids['admin_project_admin']}", {"user": {"description": _name()}}),
     CLOUD_ADMINS),
    ("update a member's user record",
     lambda w: ("PATCH", f"/v3/users/{w.ids['project_member']}", {"user": {"description": _name()}}),
     DOMAIN_ADMINS),
    # Global roles are visible to any domain reader, whichever the domain.
    ("list roles", lambda w: ("GET", "/v3/roles", None), DOMAIN_READERS | {"other_domain_admin"}),
    ("create role", lambda w: ("POST", "/v3/roles", {"role": {"name": _name()}}), CLOUD_ADMINS),
    ("list role assignments of the domain",
     lambda w: ("GET", f"/v3/role_assignments?scope.domain.id={w.ids['domain']}", None), DOMAIN_READERS),
    ("list groups of the domain", lambda w: ("GET", f"/v3/groups?domain_id={w.ids['domain']}", None),
     DOMAIN_READERS),
    ("create group in the domain",
     lambda w: ("POST", "/v3/groups", {"group": {"name": _name(), "domain_id": w.ids["domain"]}}), DOMAIN_ADMINS),
    ("list services", lambda w: ("GET", "/v3/services", None), set(PERSONAS)),
    ("create service", lambda w: ("POST", "/v3/services", {"service": {"type": _name(), "name": _name()}}),
     CLOUD_ADMINS),
    ("create region", lambda w: ("POST", "/v3/regions", {"region": {"id": _name()}}), CLOUD_ADMINS),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("row", "request_for", "allowed"), MATRIX, ids=[row for row, _, _ in MATRIX])
def test_persona_matrix(world: World, persona: str, row: str, request_for: Request, allowed: set[str]) -> None:
    method, path, body = request_for(world)
    resp = world.call(persona, method, path, body)
    if persona in allowed:
        assert resp.status_code < 300, f"{persona} must be allowed to {row}: {resp.status_code} {resp.text}"
    else:
        assert resp.status_code == 403, f"{persona} must be refused to {row}: {resp.status_code} {resp.text}"
        assert resp.json()["error"]["code"] == 403


def test_everyone_manages_their_own_password(world: World) -> None:
    for persona in ("project_reader", "domain_reader"):
        user_id = world.ids[persona]
        other = world.ids["project_member"]
        mine = world.call(persona, "GET", f"/v3/users/{user_id}/application_credentials")
        assert mine.status_code == 200, mine.text
        theirs = world.call(persona, "GET", f"/v3/users/{other}/application_credentials")
        assert theirs.status_code == 403, theirs.text


def test_domain_admin_cannot_make_itself_cloud_admin(world: World) -> None:
    """The escalation of the hardening issue: admin on a project of its domain, then act as cloud admin."""
    me, project = world.ids["domain_admin"], world.ids["project"]
    grant = world.call("domain_admin", "PUT", f"/v3/projects/{project}/users/{me}/roles/{world.ids['role:admin']}")
    assert grant.status_code == 403, grant.text
    assert grant.json()["error"]["code"] == 403
    # Not through a group carrying admin either.
    group = world.call("domain_admin", "POST", "/v3/groups",
                       {"group": {"name": _name(), "domain_id": world.ids["domain"]}}).json()["group"]["id"]
    assert world.call("domain_admin", "PUT", f"/v3/groups/{group}/users/{me}").status_code == 204
    to_group = world.call("domain_admin", "PUT", f"/v3/projects/{project}/groups/{group}/roles/{world.ids['role:admin']}")
    assert to_group.status_code == 403, to_group.text
    # Even if a cloud admin made it admin of an ordinary project, that token is no cloud admin's.
    admin = world.tokens["system_admin"]
    requests.put(f"{_root(world.cloud)}/v3/projects/{project}/users/{me}/roles/{world.ids['role:admin']}",
                 headers={"X-Auth-Token": admin}, timeout=20).raise_for_status()
    token = ks_session.Session(auth=v3.Password(auth_url=world.cloud.auth_url, user_id=me,
                                                password=world.ids["password"], project_id=project)).get_token()
    for method, path, body in (("GET", "/v3/domains", None), ("POST", "/v3/domains", {"domain": {"name": _name()}}),
                               ("GET", f"/v3/users?domain_id={world.ids['other_domain']}", None)):
        resp = requests.request(method, _root(world.cloud) + path, json=body, timeout=20, headers={"X-Auth-Token": token})
        assert resp.status_code == 403, (path, resp.text)
    # Inside its own domain it still manages users and their project roles.
    user = world.call("domain_admin", "POST", "/v3/users",
                      {"user": {"name": _name(), "domain_id": world.ids["domain"]}}).json()["user"]["id"]
    member = world.call("domain_admin", "PUT",
                        f"/v3/projects/{project}/users/{user}/roles/{world.ids['role:member']}")
    assert member.status_code == 204, member.text


def test_domain_admin_lists_only_its_domain(world: World) -> None:
    for path, key in (("/v3/users", "users"), ("/v3/groups", "groups")):
        resp = world.call("domain_admin", "GET", path)
        assert resp.status_code == 200, resp.text
        assert {item["domain_id"] for item in resp.json()[key]} <= {world.ids["domain"]}
    assignments = world.call("domain_admin", "GET", "/v3/role_assignments").json()["role_assignments"]
    assert assignments and all("system" not in a["scope"] for a in assignments)
    assert all(a["scope"].get("domain", {}).get("id", world.ids["domain"]) == world.ids["domain"] for a in assignments)
