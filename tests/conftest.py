"""Fixtures shared by all tests."""

from __future__ import annotations

import pytest
from oslo_config import cfg

from nubis.cmd import common
from tests import fixtures


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
