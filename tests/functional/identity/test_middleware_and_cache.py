"""Other APIs accept our tokens through keystonemiddleware; cached validation runs no SQL."""

from __future__ import annotations

import threading

import requests
import sqlalchemy as sa
import webob
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from nubis.api import deploy, faults, router
from nubis.cmd import common
from nubis.common import config
from nubis.identity.tokens import keys
from tests import fixtures
from tests.functional.cloud import Cloud


def _token(cloud: Cloud, creds=None) -> str:  # type: ignore[no-untyped-def]
    creds = creds or cloud.admin
    return ks_session.Session(auth=v3.Password(
        auth_url=cloud.auth_url, username=creds.username, password=creds.password, project_name=creds.project_name,
        user_domain_id="default", project_domain_id="default")).get_token()


def _whoami(req: router.Request) -> webob.Response:
    ctx = req.context
    return router.json_response({"user": ctx.user_id, "project": ctx.project_id, "roles": sorted(ctx.roles)})


def _protected_app(cloud: Cloud, tmp_path) -> deploy.WSGIApp:  # type: ignore[no-untyped-def]
    """Another Nubis API, configured the way the all-in-one configures them."""
    conf = common.build_conf([])
    conf_file = tmp_path / "api.conf"
    assert cloud.aio.secrets is not None
    conf_file.write_text(
        f"[DEFAULT]\nstate_path = {tmp_path}\n[keystone_authtoken]\nwww_authenticate_uri = {cloud.auth_url}\n"
        f"auth_url = {cloud.auth_url}\nauth_type = password\nusername = nubis\npassword = {cloud.aio.secrets.service_password}\n"
        "project_name = service\nuser_domain_id = default\nproject_domain_id = default\ntoken_cache_time = -1\n")
    config.parse_args(conf, [], default_config_files=[str(conf_file)])
    spec = deploy.ApiSpec(name="probe", routes={"/whoami": {"GET": _whoami}}, fault_format=faults.compute_fault)
    return deploy.build_app(spec, conf, None)


def test_keystonemiddleware_accepts_and_rejects_revoked(cloud: Cloud, tmp_path) -> None:  # type: ignore[no-untyped-def]
    user = cloud.new_user(["member"])
    token = _token(cloud, user)
    with fixtures.serving(_protected_app(cloud, tmp_path)) as url:
        ok = requests.get(url + "/whoami", headers={"X-Auth-Token": token}, timeout=10)
        assert ok.status_code == 200
        assert ok.json() == {"user": user.user_id, "project": user.project_id, "roles": ["member", "reader"]}
        assert requests.get(url + "/whoami", timeout=10).status_code == 401
        assert requests.get(url + "/whoami", headers={"X-Auth-Token": "bogus"}, timeout=10).status_code == 401
        # Forged identity headers are ignored.
        forged = requests.get(url + "/whoami", headers={"X-User-Id": "x", "X-Identity-Status": "Confirmed",
                                                        "X-Roles": "admin"}, timeout=10)
        assert forged.status_code == 401
        admin = _token(cloud)
        requests.delete(cloud.auth_url + "/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": token},
                        timeout=10)
        assert requests.get(url + "/whoami", headers={"X-Auth-Token": token}, timeout=10).status_code == 401


def test_cached_validation_runs_no_sql_and_issue_is_bounded(cloud: Cloud) -> None:
    assert cloud.aio.runtime is not None
    engine = cloud.aio.runtime.database("identity").engine
    counted: list[str] = []
    lock = threading.Lock()

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        with lock:
            counted.append(statement)

    admin = _token(cloud)
    subject = _token(cloud)
    headers = {"X-Auth-Token": admin, "X-Subject-Token": subject}
    assert requests.get(cloud.auth_url + "/auth/tokens", headers=headers, timeout=10).status_code == 200  # warm
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert requests.get(cloud.auth_url + "/auth/tokens", headers=headers, timeout=10).status_code == 200
        assert counted == []
        _token(cloud)
        issue_queries = len(counted)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert 0 < issue_queries <= 25, issue_queries


def test_key_rotation_keeps_tokens_valid(cloud: Cloud) -> None:
    from nubis.identity import conf as identity_conf

    assert cloud.aio.runtime is not None
    repo = identity_conf.key_repository(cloud.aio.runtime.conf)
    before = _token(cloud)
    keys.rotate(repo, max_active_keys=3)
    after = _token(cloud)
    admin = _token(cloud)
    for token in (before, after):
        resp = requests.get(cloud.auth_url + "/auth/tokens", timeout=10,
                            headers={"X-Auth-Token": admin, "X-Subject-Token": token})
        assert resp.status_code == 200
    # Rotate until the key that made `before` is gone: then it no longer validates.
    for _ in range(3):
        keys.rotate(repo, max_active_keys=3)
    admin = _token(cloud)
    gone = requests.get(cloud.auth_url + "/auth/tokens", timeout=10,
                        headers={"X-Auth-Token": admin, "X-Subject-Token": before})
    assert gone.status_code == 404
