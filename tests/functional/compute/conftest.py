"""A cloud with compute: the all-in-one's services plus two more fake compute hosts in the same process."""

from __future__ import annotations

import io
import os
import uuid
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
          "compute": {"report_interval": "1", "service_down_time": "5", "sync_power_state_interval": "1"}, "scheduler": {"service_down_time": "5"},
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
    with fixtures.backend_config(request.param, str(tmp)) as backend:
        yield from _cloud(tmp, {**CONFIG, **backend})


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


def wait_for_status(conn: Any, server_id: str, status: str, timeout: float = 30) -> Any:
    """The server once its status is ``status``; AssertionError naming the state reached after ``timeout``."""
    seen: list[Any] = []

    def reached() -> Any:
        seen[:] = [conn.compute.get_server(server_id)]
        return seen[0] if seen[0].status == status else None

    return fixtures.wait_until(reached, timeout=timeout, what=lambda: (
        f"server {server_id} to be {status}; it is {seen[0].status} (task {seen[0].task_state})"))


@pytest.fixture(scope="module")
def image_id(cloud: ComputeCloud) -> str:
    conn = cloud.connection()
    image = conn.image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                    data=io.BytesIO(b"\0" * 4096), visibility="public")
    return str(image.id)


@pytest.fixture(scope="module")
def flavor_id(cloud: ComputeCloud) -> str:
    return str(cloud.connection().compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1).id)


def boot(cloud: ComputeCloud, image_id: str, flavor_id: str, **kwargs: Any) -> Any:
    return cloud.connection().compute.create_server(name=kwargs.pop("name", f"vm-{uuid.uuid4().hex[:6]}"),
                                                    image_id=image_id, flavor_id=flavor_id, networks="none", **kwargs)
