"""``nubis-status upgrade check`` on a SQLite deployment: exit codes 0, 1, 2 for what it finds."""

from __future__ import annotations

import json
import pathlib

import pytest
import sqlalchemy as sa

from nubis import version
from nubis.cmd import manage, status
from nubis.common.db.engine import Database
from nubis.compute.db.models import Service


def _conf(tmp_path: pathlib.Path, extra: str = "") -> str:
    path = tmp_path / "nubis.conf"
    path.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n{extra}")
    return str(path)


def _check(conf: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, dict[str, str]]]:
    code = status.main(["--config-file", conf, "upgrade", "check", "--json"])
    return code, {r["check"]: r for r in json.loads(capsys.readouterr().out)}


def _compute_db(tmp_path: pathlib.Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'compute.sqlite'}")


def test_upgrade_check_exit_codes(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = _conf(tmp_path)
    code, results = _check(conf, capsys)
    assert code == 2
    assert results["Database schemas"]["result"] == "Failure"
    assert "compute: no database at" in results["Database schemas"]["details"]
    assert not list(tmp_path.glob("*.sqlite")), "a check must not create database files"

    assert manage.main(["--config-file", conf, "db", "sync"]) == 0
    capsys.readouterr()
    code, results = _check(conf, capsys)
    assert code == 0, results
    assert results["Service versions"]["details"] == "no compute services registered"

    db = _compute_db(tmp_path)
    assert "services" in sa.inspect(db.engine).get_table_names(), "the compute database lives elsewhere"
    with db.writer() as s:
        s.add(Service(host="h1", binary="nubis-compute", versions={"release": version.VERSION, "rpc": {}}))
        s.add(Service(host="h2", binary="nubis-compute"))  # a 0.1 compute: it records nothing
    code, results = _check(conf, capsys)
    assert code == 1
    assert "h2: before 0.2" in results["Service versions"]["details"]
    db.dispose()


def test_a_bad_upgrade_level_fails_and_a_forgotten_cap_warns(tmp_path: pathlib.Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = _conf(tmp_path, "[upgrade_levels]\ncompute = nubis-7.7\n")
    assert manage.main(["--config-file", bad, "db", "sync"]) == 0
    capsys.readouterr()
    code, results = _check(bad, capsys)
    assert code == 2 and "unknown release" in results["RPC upgrade levels"]["details"]
    forgotten = _conf(tmp_path, "[upgrade_levels]\ncompute = nubis-0.1\n")
    code, results = _check(forgotten, capsys)
    assert code == 1 and "remove them" in results["RPC upgrade levels"]["details"]


def test_the_table_output(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = _conf(tmp_path)
    assert status.main(["--config-file", conf, "upgrade", "check"]) == 2
    out = capsys.readouterr().out
    assert "| Upgrade Check Results" in out and "| Result: Failure" in out and out.startswith("+---")


def test_options_this_release_does_not_know_warn(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    known = _conf(tmp_path, "[upgrade_levels]\n\n[keystone_authtoken]\nanything = 1\n")
    assert manage.main(["--config-file", known, "db", "sync"]) == 0
    capsys.readouterr()
    code, results = _check(known, capsys)
    assert code == 0 and results["Config options"]["result"] == "Success", results
    stale = _conf(tmp_path, "debug = true\nold_option = 1\n[upgrade_levels]\ncomputes = 1.0\n")
    code, results = _check(stale, capsys)
    assert code == 1
    details = results["Config options"]["details"]
    assert "[DEFAULT] old_option" in details and "[upgrade_levels] computes" in details
    assert "debug" not in details


def test_keystoneauth_plugin_options_are_known(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = _conf(tmp_path, "[service_credentials]\nauth_type = password\nauth_url = http://k\nusername = u\n"
                 "password = p\nproject_name = service\nuser_domain_id = default\nproject_domain_id = default\n")
    assert manage.main(["--config-file", conf, "db", "sync"]) == 0
    capsys.readouterr()
    code, results = _check(conf, capsys)
    assert results["Config options"]["result"] == "Success", results["Config options"]
