"""Application credentials under Keystone's rules: no rescoping, restricted management, capped roles and
expiry, access rules stored, listed and enforced."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.cloud import Cloud, Credentials


def _password_token(cloud: Cloud, user: Credentials) -> str:
    return ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, username=user.username, password=user.password, user_domain_id="default",
        project_id=user.project_id)).get_token()


def _call(cloud: Cloud, token: str, method: str, path: str, body: Any = None, **headers: str) -> requests.Response:
    return requests.request(method, cloud.auth_url + path, json=body, timeout=20,
                            headers={"X-Auth-Token": token, **headers})


def _create(cloud: Cloud, token: str, user: Credentials, **fields: Any) -> requests.Response:
    return _call(cloud, token, "POST", f"/users/{user.user_id}/application_credentials",
                 {"application_credential": {"name": f"ac-{uuid.uuid4().hex[:8]}", **fields}})


def _cred_token(cloud: Cloud, cred: dict[str, Any]) -> str:
    return ks_session.Session(auth=v3.ApplicationCredential(
        auth_url=cloud.auth_url, application_credential_id=cred["id"],
        application_credential_secret=cred["secret"])).get_token()


def _token_body(cloud: Cloud, token: str) -> dict[str, Any]:
    resp = _call(cloud, token, "GET", "/auth/tokens", **{"X-Subject-Token": token})
    assert resp.status_code == 200, resp.text
    return resp.json()["token"]  # type: ignore[no-any-return]


@pytest.fixture
def user(cloud: Cloud) -> Credentials:
    return cloud.new_user(["member"])


def test_credential_token_cannot_be_rescoped(cloud: Cloud, user: Credentials) -> None:
    cred = _create(cloud, _password_token(cloud, user), user, unrestricted=True).json()["application_credential"]
    token = _cred_token(cloud, cred)
    resp = requests.post(cloud.auth_url + "/auth/tokens", timeout=20, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": token}},
        "scope": {"project": {"id": user.project_id}}}})
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"]["code"] == 403 and "application credential" in resp.json()["error"]["message"]


def test_restricted_credential_cannot_manage_credentials(cloud: Cloud, user: Credentials) -> None:
    password_token = _password_token(cloud, user)
    restricted = _create(cloud, password_token, user).json()["application_credential"]
    unrestricted = _create(cloud, password_token, user, unrestricted=True).json()["application_credential"]
    token = _cred_token(cloud, restricted)
    assert _create(cloud, token, user).status_code == 403
    gone = _call(cloud, token, "DELETE", f"/users/{user.user_id}/application_credentials/{unrestricted['id']}")
    assert gone.status_code == 403, gone.text
    # An unrestricted one may do both.
    free = _cred_token(cloud, unrestricted)
    made = _create(cloud, free, user)
    assert made.status_code == 201, made.text
    made_id = made.json()["application_credential"]["id"]
    assert _call(cloud, free, "DELETE", f"/users/{user.user_id}/application_credentials/{made_id}").status_code == 204


def test_reader_credential_never_yields_member(cloud: Cloud, user: Credentials) -> None:
    cred = _create(cloud, _password_token(cloud, user), user, unrestricted=True,
                   roles=[{"name": "reader"}]).json()["application_credential"]
    token = _cred_token(cloud, cred)
    assert [r["name"] for r in _token_body(cloud, token)["roles"]] == ["reader"]
    # Not by making a wider credential with it either.
    wider = _create(cloud, token, user, roles=[{"name": "member"}])
    assert wider.status_code == 400, wider.text
    assert "unassigned role" in wider.json()["error"]["message"]
    default = _create(cloud, token, user).json()["application_credential"]
    assert [r["name"] for r in default["roles"]] == ["reader"]


def test_token_expiry_is_capped_at_the_credential(cloud: Cloud, user: Credentials) -> None:
    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)).replace(microsecond=0)
    cred = _create(cloud, _password_token(cloud, user), user,
                   expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ")).json()["application_credential"]
    token_expires = _token_body(cloud, _cred_token(cloud, cred))["expires_at"]
    assert datetime.datetime.fromisoformat(token_expires.replace("Z", "+00:00")) <= expires


def test_access_rules_are_stored_listed_enforced_and_deleted(cloud: Cloud, user: Credentials) -> None:
    password_token = _password_token(cloud, user)
    rule = {"service": "identity", "method": "GET", "path": "/v3/users/*"}
    created = _create(cloud, password_token, user, access_rules=[rule])
    assert created.status_code == 201, created.text
    cred = created.json()["application_credential"]
    [stored] = cred["access_rules"]
    assert {k: stored[k] for k in rule} == rule and stored["id"]

    listed = _call(cloud, password_token, "GET", f"/users/{user.user_id}/access_rules").json()["access_rules"]
    assert [r["id"] for r in listed] == [stored["id"]]
    shown = _call(cloud, password_token, "GET", f"/users/{user.user_id}/access_rules/{stored['id']}")
    assert shown.json()["access_rule"]["path"] == "/v3/users/*"
    # A second credential can name the rule by id.
    again = _create(cloud, password_token, user, access_rules=[{"id": stored["id"]}]).json()["application_credential"]
    assert again["access_rules"][0]["id"] == stored["id"]

    token = _cred_token(cloud, cred)
    body = _token_body(cloud, token)  # validating a token is always allowed
    assert body["application_credential"]["access_rules"] == [stored]
    assert _call(cloud, token, "GET", f"/users/{user.user_id}").status_code == 200
    assert _call(cloud, token, "GET", f"/users/{user.user_id}/groups").status_code == 401
    assert _call(cloud, token, "GET", "/projects").status_code == 401

    in_use = _call(cloud, password_token, "DELETE", f"/users/{user.user_id}/access_rules/{stored['id']}")
    assert in_use.status_code == 403, in_use.text
    for c in (cred, again):
        assert _call(cloud, password_token, "DELETE",
                     f"/users/{user.user_id}/application_credentials/{c['id']}").status_code == 204
    assert _call(cloud, password_token, "DELETE",
                 f"/users/{user.user_id}/access_rules/{stored['id']}").status_code == 204
    assert _call(cloud, password_token, "GET",
                 f"/users/{user.user_id}/access_rules/{stored['id']}").status_code == 404


@pytest.mark.parametrize("rules", [
    [{"service": "compute", "method": "FETCH", "path": "/v2.1/servers"}],
    [{"service": "compute", "path": "/v2.1/servers"}],
    [{"service": "compute", "method": "GET", "path": "/x" * 200}],
    ["GET /servers"],
    {"service": "compute"},
])
def test_bad_access_rules_are_400(cloud: Cloud, user: Credentials, rules: Any) -> None:
    resp = _create(cloud, _password_token(cloud, user), user, access_rules=rules)
    assert resp.status_code == 400, resp.text
    assert "access_rules" in resp.json()["error"]["message"]
