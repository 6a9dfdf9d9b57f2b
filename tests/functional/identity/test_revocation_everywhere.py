"""Revocation reaches the other APIs, not just identity: identity and image in one process (the all-in-one),
the image API validating tokens with keystonemiddleware's auth_token and its token cache."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from nubis.common import token_cache
from tests.functional import cloud as cloud_fixture
from tests.functional.cloud import Cloud, Credentials
from tests.functional.identity.conftest import FAST_HASH


@pytest.fixture(scope="module")
def aio(tmp_path_factory: Any) -> Iterator[Cloud]:
    with cloud_fixture.running_cloud(tmp_path_factory.mktemp("revocation"), ["identity", "image"],
                                     extra_config=FAST_HASH) as c:
        yield c


def _images(cloud: Cloud, token: str, path: str = "/v2/images") -> int:
    return requests.get(cloud.url("image") + path, headers={"X-Auth-Token": token}, timeout=20).status_code


def _token(cloud: Cloud, user: Credentials) -> str:
    return ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, username=user.username, password=user.password, user_domain_id="default",
        project_id=user.project_id)).get_token()


def _admin(cloud: Cloud) -> str:
    return _token(cloud, Credentials("admin", cloud.admin.password, "admin",
                                     project_id=cloud.connection().current_project_id))


def _app_cred(cloud: Cloud, user: Credentials, token: str, **fields: Any) -> dict[str, Any]:
    resp = requests.post(f"{cloud.auth_url}/users/{user.user_id}/application_credentials", timeout=20,
                         headers={"X-Auth-Token": token},
                         json={"application_credential": {"name": uuid.uuid4().hex[:8], **fields}})
    assert resp.status_code == 201, resp.text
    return resp.json()["application_credential"]  # type: ignore[no-any-return]


def _app_cred_token(cloud: Cloud, cred: dict[str, Any]) -> str:
    return ks_session.Session(auth=v3.ApplicationCredential(
        auth_url=cloud.auth_url, application_credential_id=cred["id"],
        application_credential_secret=cred["secret"])).get_token()


def _revoke(cloud: Cloud, user: Credentials, token: str, change: str) -> None:
    conn = cloud.connection()
    admin = {"X-Auth-Token": _admin(cloud)}
    if change == "revoke_token":
        assert requests.delete(cloud.auth_url + "/auth/tokens", timeout=20,
                               headers={**admin, "X-Subject-Token": token}).status_code == 204
    elif change == "password":
        assert requests.post(f"{cloud.auth_url}/users/{user.user_id}/password", timeout=20, json={
            "user": {"original_password": user.password, "password": user.password + "-new"}}).status_code == 204
    elif change == "disable_user":
        conn.identity.update_user(user.user_id, is_enabled=False)
    elif change == "delete_user":
        conn.identity.delete_user(user.user_id)
    elif change == "disable_project":
        conn.identity.update_project(user.project_id, is_enabled=False)
    elif change == "delete_project":
        conn.identity.delete_project(user.project_id)
    elif change == "remove_role":
        conn.identity.unassign_project_role_from_user(user.project_id, user.user_id, conn.identity.find_role("member"))
    else:
        raise AssertionError(change)


@pytest.mark.parametrize("change", ["revoke_token", "password", "disable_user", "delete_user", "disable_project",
                                    "delete_project", "remove_role"])
def test_revoked_token_refused_by_image_within_seconds(aio: Cloud, change: str) -> None:
    user = aio.new_user(["member"])
    token = _token(aio, user)
    assert _images(aio, token) == 200
    assert _images(aio, token) == 200  # now served from auth_token's cache, without asking identity
    _revoke(aio, user, token, change)
    # The all-in-one empties its token cache on revocation: the very next call is refused.
    assert _images(aio, token) == 401


def test_app_cred_delete_refused_by_image_within_seconds(aio: Cloud) -> None:
    user = aio.new_user(["member"])
    password_token = _token(aio, user)
    cred = _app_cred(aio, user, password_token)
    token = _app_cred_token(aio, cred)
    assert _images(aio, token) == 200
    assert requests.delete(f"{aio.auth_url}/users/{user.user_id}/application_credentials/{cred['id']}", timeout=20,
                           headers={"X-Auth-Token": password_token}).status_code == 204
    # The all-in-one empties its token cache on revocation: the very next call is refused.
    assert _images(aio, token) == 401


def test_token_cache_is_short_and_in_process(aio: Cloud) -> None:
    """Separate API processes keep a validation at most token_cache_time (5 s by default, operator-tunable)."""
    assert aio.aio.runtime is not None
    assert aio.aio.runtime.conf.keystone_authtoken.token_cache_time == token_cache.TOKEN_CACHE_TIME == 5
    user = aio.new_user(["member"])
    token = _token(aio, user)
    token_cache.invalidate_process_caches()
    assert _images(aio, token) == 200
    assert token_cache.PROCESS_CACHE._items, "image's auth_token must cache in the process cache identity empties"


def test_image_enforces_access_rules(aio: Cloud) -> None:
    user = aio.new_user(["member"])
    cred = _app_cred(aio, user, _token(aio, user),
                     access_rules=[{"service": "image", "method": "GET", "path": "/v2/images"}])
    token = _app_cred_token(aio, cred)
    assert _images(aio, token) == 200
    assert _images(aio, token, f"/v2/images/{uuid.uuid4()}") == 401  # not in the rules
    free = _app_cred_token(aio, _app_cred(aio, user, _token(aio, user)))
    assert _images(aio, free, f"/v2/images/{uuid.uuid4()}") == 404  # no rules: the image is just missing
