"""Compute and network together: servers with ports, wired by a network agent, reading metadata."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import CONFIG as COMPUTE_CONFIG
from tests.functional.compute.conftest import SERVICES as COMPUTE_SERVICES

SERVICES = [*COMPUTE_SERVICES, "network", "network-agent", "metadata"]
CONFIG = {**COMPUTE_CONFIG, "compute": {**COMPUTE_CONFIG["compute"], "vif_plugging_timeout": "4"},
          "network_agent": {"poll_interval": "0.2", "report_interval": "1"},
          "network": {"vni_ranges": "500:599"}}


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory) -> Iterator[cloud_fixture.Cloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("networking")
    with cloud_fixture.running_cloud_on(request.param, tmp, SERVICES, CONFIG) as c:
        yield c


@pytest.fixture(scope="module")
def image_id(cloud: cloud_fixture.Cloud) -> str:
    image = cloud.connection().image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                                  data=io.BytesIO(b"\0" * 4096), visibility="public")
    return str(image.id)


@pytest.fixture(scope="module")
def flavor_id(cloud: cloud_fixture.Cloud) -> str:
    return str(cloud.connection().compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1).id)
