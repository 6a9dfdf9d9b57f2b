"""The Tempest runner's own logic (tools/tempest): credentials, tempest.conf, result summaries."""

from __future__ import annotations

import configparser

from tools.tempest import cloud, conf, discover, results


def test_openrc_is_read_without_a_shell(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rc = tmp_path / "openrc"
    rc.write_text("# comment\nexport OS_AUTH_URL=http://127.0.0.1:5000/v3\nexport OS_USERNAME=admin\n"
                  "export OS_PASSWORD='p$ss word'\nOS_PROJECT_NAME=admin\nexport OS_USER_DOMAIN_ID=default\n"
                  "export OS_REGION_NAME=RegionTwo\n")
    creds = cloud.from_openrc(str(rc))
    assert (creds.auth_url, creds.password, creds.project_name, creds.region) == \
        ("http://127.0.0.1:5000/v3", "p$ss word", "admin", "RegionTwo")
    assert creds.sdk_args()["user_domain_id"] == "default"
    assert creds.sdk_args()["project_domain_name"] == "Default"


def test_tempest_conf_carries_credentials_and_every_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    creds = cloud.Credentials("http://127.0.0.1:5000/v3", "admin", "secret%x", "admin", user_domain_id="default")
    settings = [discover.Setting("identity-feature-enabled", "trust", "false", "404"),
                discover.Setting("compute", "max_microversion", "2.90", "GET /v2.1")]
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(conf.render(creds, settings, str(tmp_path / "tempest.log")))
    assert parsed["auth"]["admin_password"] == "secret%x"
    assert parsed["auth"]["admin_domain_name"] == "Default"
    assert parsed["auth"]["use_dynamic_credentials"] == "true"
    assert parsed["identity-feature-enabled"]["trust"] == "false"
    assert parsed["compute"]["max_microversion"] == "2.90"


def _outcome(test_id: str, status: str, details: str = "") -> results.Outcome:
    return results.Outcome(test_id, status, details, 0.1)


def test_results_are_counted_per_service_with_each_failures_last_line() -> None:
    outcomes = [
        _outcome("tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_create[id-1]", "success"),
        _outcome("tempest.api.identity.v3.test_tokens.TokensV3Test.test_x[id-2]", "fail",
                 "Traceback (most recent call last):\n  File \"x.py\"\nAssertionError: 404 != 201\n\n"),
        _outcome("setUpClass (tempest.api.compute.servers.test_servers.ServersTestJSON)", "fail",
                 "tempest.lib.exceptions.Conflict: An object with that identifier already exists"),
        _outcome("tempest.api.compute.servers.test_servers.ServersTestJSON.test_y[id-3]", "skip",
                 "Rescue not available."),
        _outcome("tempest.api.network.test_ports.PortsTestJSON.test_z[id-4]", "xfail"),
        _outcome("tempest.api.compute.servers.test_create.ServersTestJSON.test_w[id-8]", "fail",
                 "Traceback (most recent call last):\ntempest.lib.exceptions.InvalidHTTPResponseBody: HTTP response "
                 "body is invalid\nDetails: HTTP response body is invalid ('adminPass' is a required property\n\n"
                 "Failed validating 'required' in schema:\n    {'type': 'object'}\n\nOn instance:\n"
                 "    {'id': 'x',\n     'security_groups': [{'name': 'default'}]})"),
        _outcome("setUpClass (tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON)", "skip",
                 "Trusts aren't enabled"),
    ]
    selected = [o.test_id for o in outcomes if not o.test_id.startswith("setUpClass")] + [
        "tempest.api.compute.servers.test_servers.ServersTestJSON.test_never_ran[id-5]",
        "tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON.test_a[id-6]",
        "tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON.test_b[id-7]"]
    table = results.summarize(outcomes, selected)
    assert table == {
        "compute": {"passed": 0, "failed": 2, "skipped": 1, "not run": 1},
        "identity": {"passed": 1, "failed": 1, "skipped": 2, "not run": 0},
        "network": {"passed": 1, "failed": 0, "skipped": 0, "not run": 0},
    }
    text = results.render(table, outcomes)
    assert "AssertionError: 404 != 201" in text
    assert "Conflict: An object with that identifier already exists" in text
    assert "Details: HTTP response body is invalid ('adminPass' is a required property" in text
    assert "'security_groups'" not in text
    assert text.splitlines()[len(table) + 1].split() == ["total", "2", "3", "3", "1"]
    assert results.skip_reasons(outcomes) == {"Rescue not available.": 1, "Trusts aren't enabled": 1}


class _VolumeCloud:
    """A probe's answers for a cloud whose volume service serves up to ``newest``."""

    def __init__(self, newest: str) -> None:
        self.newest = newest

    def url(self, service_type: str) -> str | None:
        return {"block-storage": "http://v:8776/v3/p", "compute": "http://c:8774/v2.1"}.get(service_type)

    def get(self, url: str, **headers: str) -> tuple[int, object]:
        if url == "http://c:8774/v2.1/extensions":
            return 200, {"extensions": [{"alias": "os-volumes"}]}
        if url == "http://v:8776/":
            return 300, {"versions": [{"id": "v3.0", "min_version": "3.0", "version": self.newest}]}
        return 404, None


def test_extend_attached_volume_follows_microversion_3_42() -> None:
    def flag(newest: str) -> discover.Setting:
        found = [s for s in discover._volume(_VolumeCloud(newest))  # type: ignore[arg-type]
                 if s.option == "extend_attached_volume"]
        assert len(found) == 1 and found[0].group == "volume-feature-enabled"
        return found[0]

    assert flag("3.60").value == "true" and flag("3.42").value == "true"
    assert flag("3.41").value == "false" and "below 3.42" in flag("3.41").why
