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

PERSONAS = ("system_admin", "system_reader", "domain_admin", "domain_reader", "project_admin",
            "project_member", "project_reader", "other_domain_admin")


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
    roles = {r["name"]: r["id"] for r in _admin_call(cloud, admin, "GET", "/v3/roles")["roles"]}
    password = uuid.uuid4().hex
    # persona -> (user's domain, where the role is granted, role, token scope)
    layout: dict[str, tuple[str, str, str]] = {
        "system_admin": ("domain", "system", "admin"),
        "system_reader": ("domain", "system", "reader"),
        "domain_admin": ("domain", "domain", "admin"),
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
        elif target == "project":
            grant = f"/v3/projects/{ids['project']}/users/{user_id}/roles/{roles[role]}"
            scope = {"project_id": ids["project"]}
        else:
            grant = f"/v3/domains/{ids[target]}/users/{user_id}/roles/{roles[role]}"
            scope = {"domain_id": ids[target]}
        _admin_call(cloud, admin, "PUT", grant)
        tokens[persona] = ks_session.Session(auth=v3.Password(
            auth_url=cloud.auth_url, user_id=user_id, password=password, **scope)).get_token()
    return World(cloud, tokens, ids)


def _name() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


Request = Callable[[World], tuple[str, str, dict[str, Any] | None]]

READERS = {"system_admin", "system_reader", "project_admin"}
DOMAIN_READERS = READERS | {"domain_admin", "domain_reader"}
CLOUD_ADMINS = {"system_admin", "project_admin"}
DOMAIN_ADMINS = CLOUD_ADMINS | {"domain_admin"}

# (row id, request, personas allowed)
MATRIX: list[tuple[str, Request, set[str]]] = [
    ("list domains", lambda w: ("GET", "/v3/domains", None), READERS),
    ("show own domain", lambda w: ("GET", f"/v3/domains/{w.ids['domain']}", None),
     DOMAIN_READERS | {"project_member", "project_reader"}),
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
