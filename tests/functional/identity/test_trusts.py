"""OS-TRUST: trusts, their roles, and trust-scoped tokens (Tempest's identity trust tests' ground)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.cloud import Cloud, Credentials

Call = Callable[..., requests.Response]


def _token(cloud: Cloud, creds: Credentials, scoped: bool = True) -> str:
    if scoped:
        auth = v3.Password(auth_url=cloud.auth_url, user_id=creds.user_id, password=creds.password,
                           project_id=creds.project_id)
    else:
        auth = v3.Password(auth_url=cloud.auth_url, user_id=creds.user_id, password=creds.password, unscoped=True)
    return str(ks_session.Session(auth=auth).get_token())


def _caller(cloud: Cloud, token: str) -> Call:
    root = cloud.auth_url.rsplit("/v3", 1)[0]

    def call(method: str, path: str, headers: dict[str, str] | None = None, **kwargs: object) -> requests.Response:
        return requests.request(method, root + path, headers={"X-Auth-Token": token, **(headers or {})},
                                timeout=30, **kwargs)

    return call


def _trust_token(cloud: Cloud, trustee_token: str, trust_id: str) -> requests.Response:
    return requests.post(cloud.auth_url.rstrip("/") + "/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": trustee_token}},
        "scope": {"OS-TRUST:trust": {"id": trust_id}}}})


@pytest.fixture(scope="module")
def people(cloud: Cloud) -> dict[str, Credentials]:
    return {"trustor": cloud.new_user(("member", "reader")), "trustee": cloud.new_user(("reader",)),
            "stranger": cloud.new_user(("member",))}


def _create(cloud: Cloud, people: dict[str, Credentials], **fields: object) -> requests.Response:
    trustor = people["trustor"]
    body = {"trustor_user_id": trustor.user_id, "trustee_user_id": people["trustee"].user_id,
            "project_id": trustor.project_id, "impersonation": False, "roles": [{"name": "member"}], **fields}
    return _caller(cloud, _token(cloud, trustor))("POST", "/v3/OS-TRUST/trusts", json={"trust": body})


def test_trust_lifecycle_and_its_roles(cloud: Cloud, people: dict[str, Credentials]) -> None:
    trustor, trustee = people["trustor"], people["trustee"]
    created = _create(cloud, people, remaining_uses=None)
    assert created.status_code == 201, created.text
    trust = created.json()["trust"]
    assert trust["trustor_user_id"] == trustor.user_id and trust["trustee_user_id"] == trustee.user_id
    assert trust["project_id"] == trustor.project_id and trust["impersonation"] is False
    assert [r["name"] for r in trust["roles"]] == ["member"]
    as_trustee = _caller(cloud, _token(cloud, trustee))
    assert as_trustee("GET", f"/v3/OS-TRUST/trusts/{trust['id']}").json()["trust"]["id"] == trust["id"]
    listed = as_trustee("GET", f"/v3/OS-TRUST/trusts?trustee_user_id={trustee.user_id}").json()["trusts"]
    assert trust["id"] in [t["id"] for t in listed]
    role_id = trust["roles"][0]["id"]
    assert [r["id"] for r in as_trustee("GET", f"/v3/OS-TRUST/trusts/{trust['id']}/roles").json()["roles"]] == [role_id]
    assert as_trustee("GET", f"/v3/OS-TRUST/trusts/{trust['id']}/roles/{role_id}").status_code == 200
    assert as_trustee("HEAD", f"/v3/OS-TRUST/trusts/{trust['id']}/roles/{role_id}").status_code == 200
    # Others neither see nor delete it; the trustee cannot delete it either.
    as_stranger = _caller(cloud, _token(cloud, people["stranger"]))
    assert as_stranger("GET", f"/v3/OS-TRUST/trusts/{trust['id']}").status_code == 403
    assert as_stranger("GET", f"/v3/OS-TRUST/trusts?trustor_user_id={trustor.user_id}").status_code == 403
    assert as_stranger("GET", "/v3/OS-TRUST/trusts").status_code == 403
    assert as_trustee("DELETE", f"/v3/OS-TRUST/trusts/{trust['id']}").status_code == 403
    as_trustor = _caller(cloud, _token(cloud, trustor))
    assert as_trustor("DELETE", f"/v3/OS-TRUST/trusts/{trust['id']}").status_code == 204
    assert as_trustor("GET", f"/v3/OS-TRUST/trusts/{trust['id']}").status_code == 404


def test_creation_is_checked(cloud: Cloud, people: dict[str, Credentials]) -> None:
    trustor = people["trustor"]
    # Only as oneself; only roles one holds; a future expiry; a positive use count; a real trustee.
    as_stranger = _caller(cloud, _token(cloud, people["stranger"]))
    forged = as_stranger("POST", "/v3/OS-TRUST/trusts", json={"trust": {
        "trustor_user_id": trustor.user_id, "trustee_user_id": people["stranger"].user_id,
        "project_id": trustor.project_id, "impersonation": False, "roles": [{"name": "member"}]}})
    assert forged.status_code == 403
    assert _create(cloud, people, roles=[{"name": "admin"}]).status_code == 403
    past = (datetime.datetime.utcnow() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert _create(cloud, people, expires_at=past).status_code == 400
    assert _create(cloud, people, remaining_uses=0).status_code == 400
    assert _create(cloud, people, trustee_user_id="no-such-user").status_code == 404
    missing = _create(cloud, people, impersonation=None)
    assert missing.status_code == 400 and "impersonation" in missing.json()["error"]["message"]


@pytest.mark.parametrize("impersonation", [False, True])
def test_trust_scoped_token(cloud: Cloud, people: dict[str, Credentials], impersonation: bool) -> None:
    trustor, trustee = people["trustor"], people["trustee"]
    trust = _create(cloud, people, impersonation=impersonation).json()["trust"]
    trustee_token = _token(cloud, trustee, scoped=False)
    issued = _trust_token(cloud, trustee_token, trust["id"])
    assert issued.status_code == 201, issued.text
    body = issued.json()["token"]
    assert body["OS-TRUST:trust"] == {"id": trust["id"], "impersonation": impersonation,
                                      "trustor_user": {"id": trustor.user_id},
                                      "trustee_user": {"id": trustee.user_id}}
    assert body["user"]["id"] == (trustor.user_id if impersonation else trustee.user_id)
    assert body["project"]["id"] == trustor.project_id
    assert [r["name"] for r in body["roles"]] == ["member"]
    trust_token = issued.headers["X-Subject-Token"]
    as_trust = _caller(cloud, trust_token)
    assert as_trust("GET", "/v3/auth/tokens", headers={"X-Subject-Token": trust_token}).status_code == 200
    # A trust-scoped token cannot be exchanged for another token.
    rescope = requests.post(cloud.auth_url.rstrip("/") + "/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": trust_token}},
        "scope": {"project": {"id": trustor.project_id}}}})
    assert rescope.status_code == 403
    # Only the trustee may use the trust.
    assert _trust_token(cloud, _token(cloud, people["stranger"]), trust["id"]).status_code == 403
    # Deleting the trust ends its tokens.
    _caller(cloud, _token(cloud, trustor))("DELETE", f"/v3/OS-TRUST/trusts/{trust['id']}")
    check = _caller(cloud, trustee_token)("GET", "/v3/auth/tokens", headers={"X-Subject-Token": trust_token})
    assert check.status_code == 404
    assert _trust_token(cloud, trustee_token, trust["id"]).status_code == 401


def test_remaining_uses_and_expiry(cloud: Cloud, people: dict[str, Credentials]) -> None:
    trustee_token = _token(cloud, people["trustee"], scoped=False)
    limited = _create(cloud, people, remaining_uses=2).json()["trust"]
    assert limited["remaining_uses"] == 2
    assert _trust_token(cloud, trustee_token, limited["id"]).status_code == 201
    assert _trust_token(cloud, trustee_token, limited["id"]).status_code == 201
    assert _trust_token(cloud, trustee_token, limited["id"]).status_code == 403
    soon = (datetime.datetime.utcnow() + datetime.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    expiring = _create(cloud, people, expires_at=soon).json()["trust"]
    assert expiring["expires_at"].startswith(soon[:19])
    token = _trust_token(cloud, trustee_token, expiring["id"])
    assert token.status_code == 201
    assert token.json()["token"]["expires_at"] <= expiring["expires_at"]
    time.sleep(2.5)
    as_trustor = _caller(cloud, _token(cloud, people["trustor"]))
    assert as_trustor("GET", f"/v3/OS-TRUST/trusts/{expiring['id']}").status_code == 404
    assert _trust_token(cloud, trustee_token, expiring["id"]).status_code == 401
