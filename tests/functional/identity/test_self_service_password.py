"""Self-service password change with Keystone's [security_compliance] rules: history, minimum age, lockout."""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from nubis.identity.db.models import Password
from tests.functional.cloud import Cloud, running_cloud

LOCKOUT_SECONDS = 2
RULES = {
    "identity": {"password_hash_rounds": "4"},
    "security_compliance": {
        "unique_last_password_count": "2",
        "minimum_password_age": "1",
        "lockout_failure_attempts": "2",
        "lockout_duration": str(LOCKOUT_SECONDS),
    },
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[Cloud]:  # type: ignore[no-untyped-def]
    with running_cloud(tmp_path_factory.mktemp("self-service"), ["identity"], extra_config=RULES) as c:
        yield c


def _root(cloud: Cloud) -> str:
    return cloud.auth_url.rsplit("/v3", 1)[0]


def _admin(cloud: Cloud, method: str, path: str, headers: dict[str, str] | None = None,
           **kwargs: object) -> requests.Response:
    token = ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, username="admin", password=cloud.admin.password, user_domain_id="default",
        project_name="admin", project_domain_id="default")).get_token()
    return requests.request(method, _root(cloud) + path, headers={"X-Auth-Token": token, **(headers or {})},
                            timeout=20, **kwargs)


def _new_user(cloud: Cloud, password: str) -> str:
    resp = _admin(cloud, "POST", "/v3/users", json={"user": {"name": f"u-{uuid.uuid4().hex[:8]}",
                                                             "password": password}})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["user"]["id"])


def _login(cloud: Cloud, user_id: str, password: str) -> str:
    return str(ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, user_id=user_id, password=password, unscoped=True)).get_token())


def _change(cloud: Cloud, user_id: str, original: str, new: str) -> requests.Response:
    """The change as Tempest's client sends it: no token at all."""
    return requests.post(f"{_root(cloud)}/v3/users/{user_id}/password", timeout=20,
                         json={"user": {"original_password": original, "password": new}})


def _age_passwords(cloud: Cloud, user_id: str, days: int) -> None:
    assert cloud.aio.runtime is not None
    with cloud.aio.runtime.database("identity").writer() as session:
        session.execute(sa.update(Password).where(Password.user_id == user_id).values(
            created_at=datetime.datetime.utcnow() - datetime.timedelta(days=days)))


def test_change_needs_no_token_and_ends_the_old_tokens(cloud: Cloud) -> None:
    user_id = _new_user(cloud, "first-password")
    old_token = _login(cloud, user_id, "first-password")
    time.sleep(1)  # tokens are precise to the second, as in Keystone
    assert _change(cloud, user_id, "first-password", "second-password").status_code == 204
    check = _admin(cloud, "GET", "/v3/auth/tokens", headers={"X-Subject-Token": old_token})
    assert check.status_code == 404
    assert _login(cloud, user_id, "second-password")
    with pytest.raises(ks_exc.Unauthorized):
        _login(cloud, user_id, "first-password")
    assert _change(cloud, "no-such-user", "x", "y").status_code == 404


def test_minimum_age_applies_to_a_password_its_user_set(cloud: Cloud) -> None:
    user_id = _new_user(cloud, "set-by-admin")
    # A password an administrator set may be changed at once ...
    assert _change(cloud, user_id, "set-by-admin", "set-by-user-1").status_code == 204
    # ... one the user set must be used for minimum_password_age days first.
    early = _change(cloud, user_id, "set-by-user-1", "set-by-user-2")
    assert early.status_code == 400
    assert "minimum password age" in early.json()["error"]["message"]
    assert _login(cloud, user_id, "set-by-user-1")
    _age_passwords(cloud, user_id, days=2)
    assert _change(cloud, user_id, "set-by-user-1", "set-by-user-2").status_code == 204
    # An administrator may reset it any time, to any password (history is for self-service only).
    reset = _admin(cloud, "PATCH", f"/v3/users/{user_id}", json={"user": {"password": "set-by-user-2"}})
    assert reset.status_code == 200, reset.text
    assert _change(cloud, user_id, "set-by-user-2", "set-by-user-3").status_code == 204


def test_history_refuses_the_last_passwords(cloud: Cloud) -> None:
    user_id = _new_user(cloud, "history-0")
    assert _change(cloud, user_id, "history-0", "history-0").status_code == 400
    assert _change(cloud, user_id, "history-0", "history-1").status_code == 204
    _age_passwords(cloud, user_id, days=2)
    refused = _change(cloud, user_id, "history-1", "history-0")
    assert refused.status_code == 400
    assert "previous password" in refused.json()["error"]["message"]
    assert _change(cloud, user_id, "history-1", "history-2").status_code == 204


def test_lockout_after_failures_then_unlocks(cloud: Cloud) -> None:
    user_id = _new_user(cloud, "lock-me-not")
    with pytest.raises(ks_exc.Unauthorized):
        _login(cloud, user_id, "wrong-password")
    # A wrong original password in a change counts as a failed login too.
    assert _change(cloud, user_id, "wrong-password", "whatever-new").status_code == 401
    with pytest.raises(ks_exc.Unauthorized) as locked:
        _login(cloud, user_id, "lock-me-not")
    assert "locked" in str(locked.value)
    assert _change(cloud, user_id, "lock-me-not", "whatever-new").status_code == 401
    time.sleep(LOCKOUT_SECONDS + 0.5)
    assert _login(cloud, user_id, "lock-me-not")
