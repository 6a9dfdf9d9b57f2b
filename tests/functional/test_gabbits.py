"""API contract tests written as gabbi YAML, run against one shared cloud.

Each file under ``gabbits/<service>/`` reads like a page of that API's reference:
method, URL, microversion header, body, and the status and fields expected back.
One cloud (identity, image, placement and compute on the fake driver, SQLite)
serves every file; each file becomes one pytest test that runs the file's
requests in order and reports every failing request.

What the YAML may use, set here for the duration of one file:

- ``$ENVIRON['ADMIN_TOKEN']`` / ``$ENVIRON['MEMBER_TOKEN']``: tokens of the
  cloud admin and of a ``member`` of a fresh project (``MEMBER_PROJECT_ID``);
- ``$ENVIRON['IMAGE_ID']``: a public raw image, ``$ENVIRON['FLAVOR_ID']``: a
  1 vCPU / 512 MB flavour, ``$ENVIRON['COMPUTE_HOST']``: the compute host;
- ``$ENVIRON['RUN']``: a token unique to this run, for names that must not clash.
"""

from __future__ import annotations

import io
import os
import unittest
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from gabbi import handlers, suitemaker, utils
from gabbi.handlers import base
from jsonpath_ng import ext as json_parser
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import CONFIG, SERVICES

GABBITS = os.path.join(os.path.dirname(__file__), "gabbits")
SERVICE_URLS = {"placement": ("placement", ""), "compute": ("compute-api", "")}
FILES = sorted((service, name) for service in SERVICE_URLS
               for name in os.listdir(os.path.join(GABBITS, service)) if name.endswith(".yaml"))


def _token(cloud: cloud_fixture.Cloud, creds: cloud_fixture.Credentials) -> str:
    auth = v3.Password(auth_url=cloud.auth_url, username=creds.username, password=creds.password,
                       user_domain_id="default", project_name=creds.project_name, project_domain_id="default")
    return str(ks_session.Session(auth=auth).get_token())


@pytest.fixture(scope="module")
def gabbi_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[cloud_fixture.Cloud, dict[str, str]]]:
    """The one cloud every gabbi file runs against, and the values the files may read."""
    tmp = tmp_path_factory.mktemp("gabbi")
    with cloud_fixture.running_cloud(tmp, SERVICES, extra_config=CONFIG) as cloud:
        conn = cloud.connection()
        image = conn.image.create_image(name="gabbi-image", disk_format="raw", container_format="bare",
                                        data=io.BytesIO(b"\0" * 4096), visibility="public")
        flavor = conn.compute.create_flavor(name="gabbi.tiny", ram=512, vcpus=1, disk=1)
        member = cloud.new_user(["member"], prefix="gabbi")
        host = next(iter(conn.compute.hypervisors())).name
        values = {"ADMIN_TOKEN": _token(cloud, cloud.admin), "MEMBER_TOKEN": _token(cloud, member),
                  "MEMBER_PROJECT_ID": member.project_id, "IMAGE_ID": str(image.id), "FLAVOR_ID": str(flavor.id),
                  "COMPUTE_HOST": str(host)}
        yield cloud, values


def _suite(service: str, name: str, url: str) -> unittest.TestSuite:
    path = os.path.join(GABBITS, service, name)
    suite_dict = utils.load_yaml(yaml_file=path, safe=True)
    host, port, prefix, _ssl = utils.host_info_from_target(url)
    test_name = f"{service}-{os.path.splitext(name)[0]}"
    return suitemaker.test_suite_from_dict(unittest.defaultTestLoader, test_name, suite_dict, os.path.dirname(path),
                                           host, port, None, None, prefix=prefix, handlers=_handlers())


class JSONPathsAbsent(base.ResponseHandler):
    """``response_json_paths_absent``: JSONPaths that must match nothing (a field gated by microversion)."""

    test_key_suffix = "json_paths_absent"
    test_key_value: list[str] = []

    def action(self, test: Any, item: str, value: Any = None) -> None:
        path = test.replace_template(item)
        found = [match.value for match in json_parser.parse(path).find(test.response_data)]
        if found:
            raise AssertionError(f"{path} should be absent, found {found!r}")


def _handlers() -> list[Any]:
    return [handler() for handler in [*handlers.RESPONSE_HANDLERS, JSONPathsAbsent]]


@pytest.mark.parametrize(("service", "name"), FILES, ids=[f"{s}/{n}" for s, n in FILES])
def test_gabbi_file(service: str, name: str, gabbi_cloud: tuple[cloud_fixture.Cloud, dict[str, str]],
                    monkeypatch: pytest.MonkeyPatch) -> None:
    cloud, values = gabbi_cloud
    for key, value in {**values, "RUN": uuid.uuid4().hex[:8].upper()}.items():
        monkeypatch.setenv(key, value)
    suite = _suite(service, name, cloud.url(SERVICE_URLS[service][0]))
    out = io.StringIO()
    result = unittest.TextTestRunner(stream=out, verbosity=1).run(suite)
    assert result.testsRun == suite.countTestCases() and result.testsRun > 0
    assert result.wasSuccessful(), out.getvalue()
