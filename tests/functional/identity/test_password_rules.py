"""Security compliance: password strength, history, expiry and self-service change."""

from __future__ import annotations

import datetime
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

RULES = {
    "identity": {"password_hash_rounds": "4"},
    "security_compliance": {
        "password_regex": r"^(?=.*\d).{10,}$",
        "password_regex_description": "at least 10 characters, one of them a digit",
        "unique_last_password_count": "2",
        "password_expires_days": "30",
    },
}


@pytest.fixture(scope="module")
def strict_cloud(tmp_path_factory) -> Iterator[Cloud]:  # type: ignore[no-untyped-def]
    with running_cloud(tmp_path_factory.mktemp("password-rules"), ["identity"], extra_config=RULES) as c:
        yield c


def _root(cloud: Cloud) -> str:
    return cloud.auth_url.rsplit("/v3", 1)[0]


def _admin_token(cloud: Cloud) -> str:
    return ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, username="admin", password=cloud.admin.password, user_domain_id="default",
        project_name="admin", project_domain_id="default")).get_token()


def _create_user(cloud: Cloud, password: str) -> requests.Response:
    return requests.post(_root(cloud) + "/v3/users", timeout=20, headers={"X-Auth-Token": _admin_token(cloud)},
                         json={"user": {"name": f"u-{uuid.uuid4().hex[:8]}", "password": password}})


def _login(cloud: Cloud, user_id: str, password: str) -> str:
    return ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, user_id=user_id, password=password, unscoped=True)).get_token()


def _change(cloud: Cloud, user_id: str, original: str, new: str) -> requests.Response:
    token = _login(cloud, user_id, original)
    return requests.post(f"{_root(cloud)}/v3/users/{user_id}/password", timeout=20, headers={"X-Auth-Token": token},
                         json={"user": {"original_password": original, "password": new}})


def test_weak_password_is_refused_with_the_rule_in_words(strict_cloud: Cloud) -> None:
    resp = _create_user(strict_cloud, "short1")
    assert resp.status_code == 400
    assert "at least 10 characters, one of them a digit" in resp.json()["error"]["message"]


def test_new_password_carries_its_expiry(strict_cloud: Cloud) -> None:
    resp = _create_user(strict_cloud, "long-enough-1")
    assert resp.status_code == 201, resp.text
    expires = datetime.datetime.fromisoformat(resp.json()["user"]["password_expires_at"].rstrip("Z"))
    days = (expires - datetime.datetime.utcnow()).days
    assert 29 <= days <= 30


def test_change_requires_original_and_refuses_recent_passwords(strict_cloud: Cloud) -> None:
    first, second, third = "first-password-1", "second-password-2", "third-password-3"
    user_id = _create_user(strict_cloud, first).json()["user"]["id"]
    token = _login(strict_cloud, user_id, first)
    wrong = requests.post(f"{_root(strict_cloud)}/v3/users/{user_id}/password", timeout=20,
                          headers={"X-Auth-Token": token},
                          json={"user": {"original_password": "not-the-password-9", "password": second}})
    assert wrong.status_code == 401
    assert _change(strict_cloud, user_id, first, first).status_code == 400  # the current one
    assert _change(strict_cloud, user_id, first, second).status_code == 204
    assert _change(strict_cloud, user_id, second, first).status_code == 400  # one of the last two
    assert _change(strict_cloud, user_id, second, third).status_code == 204
    with pytest.raises(ks_exc.Unauthorized):
        _login(strict_cloud, user_id, second)
    assert _login(strict_cloud, user_id, third)


def test_expired_password_cannot_log_in(strict_cloud: Cloud) -> None:
    password = "expiring-password-1"
    user_id = _create_user(strict_cloud, password).json()["user"]["id"]
    assert _login(strict_cloud, user_id, password)
    # Time travel: age the password row past its expiry.
    assert strict_cloud.aio.runtime is not None
    with strict_cloud.aio.runtime.database("identity").writer() as session:
        session.execute(sa.update(Password).where(Password.user_id == user_id).values(
            expires_at=datetime.datetime.utcnow() - datetime.timedelta(minutes=1)))
    with pytest.raises(ks_exc.Unauthorized) as info:
        _login(strict_cloud, user_id, password)
    assert "expired" in str(info.value)
