"""A running volume service (API and one file-backed manager, with identity and image) shared by a test module."""

from __future__ import annotations

import pytest

from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tools import ports

CONFIG = {"identity": {"password_hash_rounds": "4"},
          # Small capacity so the "backend full" path is reachable: 50 GiB x 2.
          "volume": {"file_capacity_gb": "50", "max_over_subscription_ratio": "2.0", "report_interval": "1"}}


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("volume")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        nbd = ports.free_offset([0, 19])  # 20 NBD export ports of this module's manager
        extra = {**CONFIG, "database": {"connection": url},
                 "volume": {**CONFIG["volume"], "nbd_port_min": str(nbd), "nbd_port_max": str(nbd + 19)}}
        with cloud_fixture.running_cloud(tmp, ["image", "volume", "volume-manager"], extra_config=extra) as c:
            yield c


@pytest.fixture(scope="module")
def admin(cloud):  # type: ignore[no-untyped-def]
    """The cloud's admin, through the volume API (tests.functional.volume.test_volumes.Api)."""
    from tests.functional.volume.test_volumes import Api

    return Api(cloud)


@pytest.fixture(scope="module")
def member(cloud):  # type: ignore[no-untyped-def]
    """A new member (and reader) of a new project, through the volume API; modules wanting a user of their own
    define their own ``member``."""
    from tests.functional.volume.test_volumes import Api

    return Api(cloud, cloud.new_user(["member", "reader"]))
