"""Tokens through keystoneauth1: scopes, rescoping, application credentials, revocation, lockout."""

from __future__ import annotations

import uuid

import pytest
import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.cloud import Cloud, Credentials


def _session(cloud: Cloud, creds: Credentials, **scope: str) -> ks_session.Session:
    kwargs = scope or {"project_name": creds.project_name, "project_domain_id": "default"}
    auth = v3.Password(auth_url=cloud.auth_url, username=creds.username, password=creds.password,
                       user_domain_id="default", **kwargs)
    return ks_session.Session(auth=auth)


def _validate(cloud: Cloud, token: str) -> requests.Response:
    admin = _session(cloud, cloud.admin).get_token()
    return requests.get(cloud.auth_url + "/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": token},
                        timeout=10)


def test_project_domain_system_and_unscoped(cloud: Cloud) -> None:
    project = _session(cloud, cloud.admin)
    assert project.get_project_id()
    system = _session(cloud, cloud.admin, system_scope="all")
    body = _validate(cloud, system.get_token()).json()["token"]
    assert body["system"] == {"all": True} and {r["name"] for r in body["roles"]} >= {"admin", "reader"}
    unscoped = v3.Password(auth_url=cloud.auth_url, username="admin", password=cloud.admin.password,
                           user_domain_id="default", unscoped=True)
    token = ks_session.Session(auth=unscoped).get_token()
    body = _validate(cloud, token).json()["token"]
    assert "project" not in body and "roles" not in body and "catalog" not in body


def test_response_shape(cloud: Cloud) -> None:
    resp = requests.post(cloud.auth_url + "/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": cloud.admin.password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}, timeout=10)
    assert resp.status_code == 201
    token = resp.json()["token"]
    for key in ("user", "project", "roles", "catalog", "methods", "audit_ids", "issued_at", "expires_at"):
        assert key in token
    assert token["methods"] == ["password"] and token["user"]["domain"]["name"] == "Default"
    assert resp.headers["X-Subject-Token"]
    nocatalog = requests.get(cloud.auth_url + "/auth/tokens?nocatalog", timeout=10, headers={
        "X-Auth-Token": resp.headers["X-Subject-Token"], "X-Subject-Token": resp.headers["X-Subject-Token"]})
    assert nocatalog.status_code == 200 and "catalog" not in nocatalog.json()["token"]


@pytest.mark.parametrize("bad", [
    {"name": "admin", "password": "wrong"},
    {"name": "no-such-user", "password": "whatever"},
])
def test_wrong_password_and_unknown_user_look_the_same(cloud: Cloud, bad: dict[str, str]) -> None:
    resp = requests.post(cloud.auth_url + "/auth/tokens", json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {**bad, "domain": {"id": "default"}}}}}}, timeout=10)
    assert resp.status_code == 401
    assert resp.json() == {"error": {"code": 401, "title": "Unauthorized",
                                     "message": "The request you have made requires authentication."}}


@pytest.mark.parametrize("body", [b"{not json", b'{"auth": {}}', b'{"auth": {"identity": {"methods": []}}}'])
def test_malformed_auth_requests_are_400(cloud: Cloud, body: bytes) -> None:
    resp = requests.post(cloud.auth_url + "/auth/tokens", data=body, headers={"Content-Type": "application/json"},
                         timeout=10)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == 400


def test_tampered_token_is_404(cloud: Cloud) -> None:
    token = _session(cloud, cloud.admin).get_token()
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    assert _validate(cloud, tampered).status_code == 404
    assert _validate(cloud, "garbage").status_code == 404


def test_rescope_keeps_expiry_and_audit_chain(cloud: Cloud) -> None:
    user = cloud.new_user(["member"])
    unscoped = ks_session.Session(auth=v3.Password(auth_url=cloud.auth_url, username=user.username,
                                                   password=user.password, user_domain_id="default", unscoped=True))
    first = unscoped.get_token()
    rescoped = ks_session.Session(auth=v3.Token(auth_url=cloud.auth_url, token=first, project_id=user.project_id))
    second = rescoped.get_token()
    a, b = _validate(cloud, first).json()["token"], _validate(cloud, second).json()["token"]
    assert b["project"]["id"] == user.project_id
    assert b["expires_at"] <= a["expires_at"]
    assert b["audit_ids"][1] == a["audit_ids"][0]
    assert set(b["methods"]) == {"password", "token"}


def test_application_credential_authenticates(cloud: Cloud) -> None:
    user = cloud.new_user(["member"])
    sess = _session(cloud, user)
    resp = sess.post(f"{cloud.auth_url}/users/{user.user_id}/application_credentials",
                     json={"application_credential": {"name": "ci", "roles": [{"name": "reader"}]}}).json()
    cred = resp["application_credential"]
    auth = v3.ApplicationCredential(auth_url=cloud.auth_url, application_credential_id=cred["id"],
                                    application_credential_secret=cred["secret"])
    token = ks_session.Session(auth=auth).get_token()
    body = _validate(cloud, token).json()["token"]
    assert body["project"]["id"] == user.project_id
    assert [r["name"] for r in body["roles"]] == ["reader"]  # only what the credential carries
    assert body["application_credential"]["id"] == cred["id"]
    by_name = v3.ApplicationCredential(auth_url=cloud.auth_url, application_credential_name="ci",
                                       application_credential_secret=cred["secret"], username=user.username,
                                       user_domain_id="default")
    assert ks_session.Session(auth=by_name).get_token()
    # Deleting it revokes its tokens at once.
    sess.delete(f"{cloud.auth_url}/users/{user.user_id}/application_credentials/{cred['id']}")
    assert _validate(cloud, token).status_code == 404
    bad = v3.ApplicationCredential(auth_url=cloud.auth_url, application_credential_id=cred["id"],
                                   application_credential_secret=cred["secret"])
    with pytest.raises(ks_exc.Unauthorized):
        ks_session.Session(auth=bad).get_token()


def _fresh_token(cloud: Cloud, user: Credentials) -> str:
    return _session(cloud, user).get_token()


def test_revoke_token(cloud: Cloud) -> None:
    user = cloud.new_user(["member"])
    token = _fresh_token(cloud, user)
    assert _validate(cloud, token).status_code == 200
    admin = _session(cloud, cloud.admin).get_token()
    resp = requests.delete(cloud.auth_url + "/auth/tokens", timeout=10,
                           headers={"X-Auth-Token": admin, "X-Subject-Token": token})
    assert resp.status_code == 204
    assert _validate(cloud, token).status_code == 404
    # Other tokens of the same user still work.
    assert _validate(cloud, _fresh_token(cloud, user)).status_code == 200


@pytest.mark.parametrize("change", ["disable_user", "delete_user", "delete_project", "password", "remove_role",
                                    "disable_project"])
def test_changes_revoke_affected_tokens(cloud: Cloud, change: str) -> None:
    user = cloud.new_user(["member"])
    token = _fresh_token(cloud, user)
    assert _validate(cloud, token).status_code == 200
    conn = cloud.connection()
    if change == "disable_user":
        conn.identity.update_user(user.user_id, is_enabled=False)
    elif change == "delete_user":
        conn.identity.delete_user(user.user_id)
    elif change == "delete_project":
        conn.identity.delete_project(user.project_id)
    elif change == "disable_project":
        conn.identity.update_project(user.project_id, is_enabled=False)
    elif change == "password":
        resp = requests.post(f"{cloud.auth_url}/users/{user.user_id}/password", timeout=10, json={
            "user": {"original_password": user.password, "password": user.password + "-new"}})
        assert resp.status_code == 204
    elif change == "remove_role":
        conn.identity.unassign_project_role_from_user(user.project_id, user.user_id,
                                                      conn.identity.find_role("member"))
    assert _validate(cloud, token).status_code == 404
    if change == "password":
        fresh = _session(cloud, Credentials(user.username, user.password + "-new", user.project_name)).get_token()
        assert _validate(cloud, fresh).status_code == 200


def test_lockout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.functional.cloud import running_cloud

    extra = {"identity": {"password_hash_rounds": "4"},
             "security_compliance": {"lockout_failure_attempts": "2", "lockout_duration": "600"}}
    with running_cloud(tmp_path, ["identity"], extra_config=extra) as c:
        user = c.new_user(["member"])
        wrong = Credentials(user.username, "wrong", user.project_name)
        for _ in range(2):
            with pytest.raises(ks_exc.Unauthorized):
                _session(c, wrong).get_token()
        with pytest.raises(ks_exc.Unauthorized) as info:
            _session(c, user).get_token()  # right password, but locked out now
        assert "locked" in str(info.value)


def test_user_cannot_read_another_users_token(cloud: Cloud) -> None:
    alice, bob = cloud.new_user(["member"]), cloud.new_user(["member"])
    resp = requests.get(cloud.auth_url + "/auth/tokens", timeout=10, headers={
        "X-Auth-Token": _fresh_token(cloud, alice), "X-Subject-Token": _fresh_token(cloud, bob)})
    assert resp.status_code == 403


def test_unknown_ids_are_404(cloud: Cloud) -> None:
    sess = _session(cloud, cloud.admin)
    for path in ("users", "projects", "domains", "groups", "roles", "regions", "services", "endpoints"):
        resp = sess.get(f"{cloud.auth_url}/{path}/{uuid.uuid4().hex}", raise_exc=False)
        assert resp.status_code == 404, path
        assert resp.json()["error"]["code"] == 404
