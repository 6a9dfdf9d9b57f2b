"""A running image service (and identity) per DB backend, shared by a test module."""

from __future__ import annotations

import pytest
import requests

from tests import fixtures
from tests.functional import cloud as cloud_fixture

CONFIG = {"identity": {"password_hash_rounds": "4"},
          # The tests serve web-download sources from 127.0.0.1 on a random port.
          "image": {"web_download_allow_internal": "true", "web_download_allowed_ports": ""}}


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("image")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {**CONFIG, "database": {"connection": url}}
        with cloud_fixture.running_cloud(tmp, ["image"], extra_config=extra) as c:
            yield c


@pytest.fixture(scope="module")
def api(cloud: cloud_fixture.Cloud) -> requests.Session:
    """A session holding the cloud admin's token (for the module's own ``cloud`` where it defines one)."""
    session = requests.Session()
    session.headers["X-Auth-Token"] = cloud.connection().session.get_token()
    return session
