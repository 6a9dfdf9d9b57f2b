"""A running placement service (and identity) per DB backend, shared by a test module."""

from __future__ import annotations

import pytest
from keystoneauth1 import adapter
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests import fixtures
from tests.functional import cloud as cloud_fixture

FAST_HASH = {"identity": {"password_hash_rounds": "4"}}


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("placement")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {**FAST_HASH, "database": {"connection": url}}
        with cloud_fixture.running_cloud(tmp, ["placement"], extra_config=extra) as c:
            yield c


def placement_client(cloud: cloud_fixture.Cloud, version: str = "1.39") -> adapter.Adapter:
    """keystoneauth1 adapter on the catalog's placement endpoint, at one microversion."""
    auth = v3.Password(auth_url=cloud.auth_url, username="admin", password=cloud.admin.password,
                       user_domain_id="default", project_name="admin", project_domain_id="default")
    return adapter.Adapter(ks_session.Session(auth=auth), service_type="placement", interface="public",
                           default_microversion=version, raise_exc=False)
