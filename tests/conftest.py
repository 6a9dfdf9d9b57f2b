"""Fixtures shared by all tests."""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterator

import pytest
from oslo_config import cfg

from nubis.cmd import common
from tests import fixtures


def _server_backend(item: pytest.Item, servers: list[str]) -> str | None:
    """The server backend of ``servers`` (mysql, postgresql) a collected test is parametrized with, if any."""
    callspec = getattr(item, "callspec", None)
    for value in (callspec.params.values() if callspec else ()):
        if isinstance(value, str) and value in servers:
            return value
    return None


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under NUBIS_TEST_BACKEND_MATRIX=spread, leave out each test's runs on the server backends its module
    was not dealt (see fixtures.server_backend_of_module); the SQLite runs all stay."""
    servers = fixtures.backend_ids()[1:]  # read from the environment once, not once per test
    on_server = {item.nodeid: _server_backend(item, servers) for item in items}
    dealt = fixtures.server_backend_of_module(
        collections.Counter(_module_of(item) for item in items if on_server[item.nodeid]))
    if not dealt:
        return
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        backend = on_server[item.nodeid]
        (left_out if backend and backend != dealt[_module_of(item)] else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture
def conf(tmp_path) -> cfg.ConfigOpts:  # type: ignore[no-untyped-def]
    """A ConfigOpts with the common options, state under a temp dir, no config files."""
    conf = common.build_conf([])
    conf([], default_config_files=[])
    conf.set_override("state_path", str(tmp_path))
    return conf


@pytest.fixture(params=fixtures.backend_ids())
def db_backend(request) -> str:  # type: ignore[no-untyped-def]
    """Each DB backend in turn: sqlite, plus those NUBIS_TEST_DB_URLS names."""
    return str(request.param)


@pytest.fixture
def db_url(db_backend, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh empty database URL on each backend."""
    with fixtures.scratch_database(db_backend, str(tmp_path)) as url:
        yield url


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put logging back as it was after a test that runs a command in-process (oslo.log sets logging up
    for the command: handlers, levels, disabled loggers), so later tests' log captures still work."""
    manager = logging.Logger.manager
    saved = {name: (lg.level, list(lg.handlers), lg.propagate, lg.disabled)
             for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    root = logging.getLogger()
    root_saved = (root.level, list(root.handlers))
    disabled = logging.root.manager.disable
    yield
    logging.disable(disabled)
    root.setLevel(root_saved[0])
    for handler in root.handlers[:]:
        if handler not in root_saved[1]:
            root.removeHandler(handler)
    for handler in root_saved[1]:
        if handler not in root.handlers:
            root.addHandler(handler)
    for name, lg in list(manager.loggerDict.items()):
        if not isinstance(lg, logging.Logger):
            continue
        if name in saved:
            lg.level, lg.handlers, lg.propagate, lg.disabled = saved[name][0], saved[name][1], *saved[name][2:]
        else:
            lg.setLevel(logging.NOTSET)
            lg.handlers = []
            lg.propagate = True
            lg.disabled = False
    manager._clear_cache()  # levels were set directly: drop the loggers' cached answers
