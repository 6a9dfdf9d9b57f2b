"""``nubis-manage db expand|migrate|contract`` on a fresh SQLite deployment."""

from __future__ import annotations

import pathlib

import pytest

from nubis.cmd import manage


@pytest.fixture
def config_file(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "nubis.conf"
    path.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n")
    return str(path)


def _compute_head() -> str:
    versions = pathlib.Path(manage.__file__).parents[1] / "compute" / "db" / "migrations" / "versions"
    return max(p.name.split("_", 1)[0] for p in versions.glob("[0-9]*.py"))


def test_expand_migrate_contract_in_order(config_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    head = _compute_head()
    assert manage.main(["--config-file", config_file, "db", "contract", "compute"]) == 2
    assert "run 'nubis-manage db expand'" in capsys.readouterr().err
    assert manage.main(["--config-file", config_file, "db", "expand", "compute"]) == 0
    assert f"compute: expanded to {head}" in capsys.readouterr().out
    assert manage.main(["--config-file", config_file, "db", "migrate", "compute"]) == 0
    assert "compute: no online data migrations" in capsys.readouterr().out
    # Every compute migration is an expand: nothing is left for contract, which succeeds with no services.
    assert manage.main(["--config-file", config_file, "db", "contract", "compute"]) == 0
    assert f"compute: {head}" in capsys.readouterr().out
    assert manage.main(["--config-file", config_file, "db", "expand", "compute"]) == 0
    assert "compute: nothing to expand" in capsys.readouterr().out
