"""The CI's "spread" backend matrix: every module on one server database, the shares about equal."""

from __future__ import annotations

import pytest

from tests import fixtures

SERVERS = "mysql+pymysql://root@127.0.0.1:3306,postgresql://postgres@127.0.0.1:5432"


def test_spread_deals_modules_largest_first_to_the_emptier_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fixtures.DB_URLS_ENV, SERVERS)
    monkeypatch.setenv(fixtures.BACKEND_MATRIX_ENV, "spread")
    dealt = fixtures.server_backend_of_module({"a": 300, "b": 120, "c": 100, "d": 90, "e": 5})
    assert dealt == {"a": "mysql", "b": "postgresql", "c": "postgresql", "d": "postgresql", "e": "mysql"}


def test_full_matrix_and_a_single_server_leave_nothing_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fixtures.DB_URLS_ENV, SERVERS)
    monkeypatch.delenv(fixtures.BACKEND_MATRIX_ENV, raising=False)
    assert fixtures.server_backend_of_module({"a": 3}) == {}
    monkeypatch.setenv(fixtures.BACKEND_MATRIX_ENV, "spread")
    monkeypatch.setenv(fixtures.DB_URLS_ENV, SERVERS.split(",")[0])
    assert fixtures.server_backend_of_module({"a": 3}) == {}


def test_an_unknown_matrix_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fixtures.BACKEND_MATRIX_ENV, "half")
    with pytest.raises(ValueError, match="'full' or 'spread'"):
        fixtures.server_backend_of_module({"a": 3})
