"""A running identity service per DB backend, shared by a test module."""

from __future__ import annotations

import pytest

from tests import fixtures
from tests.functional import cloud as cloud_fixture

# Tests authenticate many times; Keystone's default bcrypt cost (12) is for production.
FAST_HASH = {"identity": {"password_hash_rounds": "4"}}


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("identity")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {**FAST_HASH, "database": {"connection": url}}
        with cloud_fixture.running_cloud(tmp, ["identity"], extra_config=extra) as c:
            yield c
