"""A cloud with compute: the all-in-one's services plus two more fake compute hosts in the same process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from nubis import services
from nubis.cmd import common
from nubis.common import config
from nubis.common.runtime import Runtime
from nubis.compute import agent_service
from nubis.compute.virt import fake
from tests import fixtures
from tests.functional import cloud as cloud_fixture

SERVICES = ["image", "placement", "scheduler", "compute-api", "conductor", "compute"]
CONFIG = {"identity": {"password_hash_rounds": "4"},
          "compute": {"report_interval": "1", "service_down_time": "3"}, "scheduler": {"service_down_time": "3"},
          "quota": {"instances": "10", "cores": "200", "ram": "409600"}}


class ComputeCloud(cloud_fixture.Cloud):
    """The cloud, plus the fake drivers of its hosts (to inspect guests and inject failures)."""

    drivers: dict[str, fake.FakeDriver]
    stoppables: list[Any]


def start_extra_agent(cloud: cloud_fixture.Cloud, host: str) -> tuple[fake.FakeDriver, list[Any]]:
    """A compute agent for ``host`` on the cloud's transport, with the cloud's config."""
    aio = cloud.aio
    assert aio.runtime is not None
    conf = common.build_conf([services.load(n) for n in ["identity", *SERVICES]])
    config.parse_args(conf, [], default_config_files=[os.path.join(aio.state_dir, "all-in-one.conf")])
    conf.set_override("host", host)
    driver = fake.FakeDriver(agent_service.fake_host(conf))
    return driver, list(agent_service.start(Runtime(conf, messaging=aio.runtime.messaging), driver))


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory) -> Iterator[ComputeCloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("compute")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {**CONFIG, "database": {"connection": url}}
        rabbit = os.environ.get(fixtures.TRANSPORT_URL_ENV)
        # Server databases go with RabbitMQ (as deployed), each cloud in a vhost of its own.
        vhost = fixtures.rabbit_vhost(rabbit) if rabbit and request.param != "sqlite" else contextlib.nullcontext()
        with vhost as transport_url:
            if transport_url:
                extra["DEFAULT"] = {"transport_url": transport_url}
            yield from _cloud(tmp, extra)


def _cloud(tmp: Any, extra: dict[str, dict[str, str]]) -> Iterator[ComputeCloud]:
    with cloud_fixture.running_cloud(tmp, SERVICES, extra_config=extra) as base:
        c = ComputeCloud(base.aio)
        c.drivers, c.stoppables = {}, []
        try:
            for host in ("compute-2", "compute-3"):
                driver, running = start_extra_agent(c, host)
                c.drivers[host] = driver
                c.stoppables.extend(running)
            yield c
        finally:
            for item in reversed(c.stoppables):
                item.stop()
