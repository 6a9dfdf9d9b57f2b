"""A running network service (and identity) per DB backend, shared by a test module."""

from __future__ import annotations

import pytest

from tests import fixtures
from tests.functional import cloud as cloud_fixture

CONFIG = {"identity": {"password_hash_rounds": "4"},
          "network": {"flat_networks": "physnet1,public", "vni_ranges": "100:199"}}


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("network")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {**CONFIG, "database": {"connection": url}}
        with cloud_fixture.running_cloud(tmp, ["network"], extra_config=extra) as c:
            yield c


@pytest.fixture(scope="module")
def admin(cloud):  # type: ignore[no-untyped-def]
    return cloud.connection()


@pytest.fixture(scope="module")
def demo(cloud):  # type: ignore[no-untyped-def]
    """A member of a fresh project, and their connection."""
    creds = cloud.new_user()
    return creds, cloud.connection(creds)
