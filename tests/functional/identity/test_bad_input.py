"""Wrong bodies are 400s in Keystone's error format naming what is wrong, never a 500."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.functional.cloud import Cloud

_PASSWORD = {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"},
                                                            "password": "x"}}}


def _auth(identity: Any = None, **extra: Any) -> dict[str, Any]:
    return {"auth": {"identity": identity if identity is not None else _PASSWORD, **extra}}


# (body, a fragment the message must contain: the field that is wrong)
AUTH_BODIES: list[tuple[Any, str]] = [
    (None, "request body"),
    ([], "request body"),
    ("auth", "request body"),
    (12, "request body"),
    ({"auth": None}, "auth"),
    ({"auth": []}, "auth"),
    ({"auth": {"identity": None}}, "auth/identity"),
    ({"auth": {"identity": "password"}}, "auth/identity"),
    (_auth({"methods": "password"}), "auth/identity/methods"),
    (_auth({"methods": [1]}), "auth/identity/methods/0"),
    (_auth({"methods": ["password"], "password": "secret"}), "auth/identity/password"),
    (_auth({"methods": ["password"], "password": {"user": "admin"}}), "auth/identity/password/user"),
    (_auth({"methods": ["password"], "password": {"user": {"name": 5, "password": "x"}}}),
     "auth/identity/password/user/name"),
    (_auth({"methods": ["password"], "password": {"user": {"id": 10 ** 30, "password": "x"}}}),
     "auth/identity/password/user/id"),
    (_auth({"methods": ["password"], "password": {"user": {"id": "u" * 65, "password": "x"}}}),
     "auth/identity/password/user/id"),
    (_auth({"methods": ["password"], "password": {"user": {"name": "a", "domain": "default", "password": "x"}}}),
     "auth/identity/password/user/domain"),
    (_auth({"methods": ["password"], "password": {"user": {"name": "a", "password": ["x"]}}}),
     "auth/identity/password/user/password"),
    (_auth({"methods": ["token"], "token": {"id": 5}}), "auth/identity/token/id"),
    (_auth({"methods": ["token"], "token": {}}), "auth/identity/token"),
    (_auth({"methods": ["application_credential"], "application_credential": {"id": [], "secret": "x"}}),
     "auth/identity/application_credential/id"),
    (_auth(scope="project"), "auth/scope"),
    (_auth(scope={"project": "admin"}), "auth/scope"),
    (_auth(scope={"project": {"id": 5}}), "auth/scope"),
    (_auth(scope={"domain": []}), "auth/scope"),
    (_auth(scope={"system": "all"}), "auth/scope"),
]


@pytest.mark.parametrize(("body", "field"), AUTH_BODIES, ids=[json.dumps(b)[:60] for b, _ in AUTH_BODIES])
def test_bad_token_requests_are_400_naming_the_field(cloud: Cloud, body: Any, field: str) -> None:
    resp = requests.post(cloud.auth_url + "/auth/tokens", data=json.dumps(body), timeout=20,
                         headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == 400 and error["title"] == "Bad Request"
    assert field in error["message"], error["message"]


def test_bad_password_change_is_400(cloud: Cloud) -> None:
    user = cloud.new_user(["member"])
    for body in (None, {"user": None}, {"user": {"password": 5, "original_password": user.password}},
                 {"user": {"password": "p" * 5000, "original_password": user.password}}):
        resp = requests.post(f"{cloud.auth_url}/users/{user.user_id}/password", data=json.dumps(body), timeout=20,
                             headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["error"]["code"] == 400


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PATCH", "/users/{user_id}", {"user": {"default_project_id": "p" * 100}}),
    ("PATCH", "/users/{user_id}", {"user": {"default_project_id": 5}}),
    ("PATCH", "/users/{user_id}", {"user": {"name": 10 ** 30}}),
    ("POST", "/users", {"user": {"name": "u", "domain_id": "d" * 100}}),
    ("POST", "/credentials", {"credential": {"blob": "x", "type": "t" * 300, "user_id": "{user_id}"}}),
    ("POST", "/credentials", {"credential": {"blob": "x", "type": "ec2", "user_id": "{user_id}",
                                             "project_id": "p" * 100}}),
    ("POST", "/projects", {"project": {"name": "p", "domain_id": ["default"]}}),
    ("POST", "/groups", None),
    ("POST", "/roles", {"role": {"name": {"a": 1}}}),
])
def test_wrong_types_and_sizes_elsewhere_are_4xx(cloud: Cloud, method: str, path: str, body: Any) -> None:
    conn = cloud.connection()
    user_id = conn.identity.create_user(name=f"bad-{uuid.uuid4().hex[:8]}", domain_id="default").id
    raw = json.dumps(body).replace("{user_id}", user_id)
    resp = requests.request(method, cloud.auth_url + path.replace("{user_id}", user_id), data=raw, timeout=20,
                            headers={"X-Auth-Token": conn.session.get_token(), "Content-Type": "application/json"})
    assert resp.status_code in (400, 404), resp.text
    assert resp.json()["error"]["code"] == resp.status_code
