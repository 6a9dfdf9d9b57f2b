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
        # The confined persona model (doc/personas.md): only the admin project's admins are cloud admins.
        extra = {**FAST_HASH, "database": {"connection": url}, "resource": {"admin_project_name": "admin"}}
        with cloud_fixture.running_cloud(tmp, ["identity"], extra_config=extra) as c:
            yield c
