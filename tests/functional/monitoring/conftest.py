"""A cloud with compute, network and images, and ``nubis-exporter`` serving it over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from oslo_config import cfg
from prometheus_client.parser import text_string_to_metric_families

from nubis import services
from nubis.api import server
from nubis.cmd import common
from nubis.common import config
from nubis.monitoring import conf as monitoring_conf
from nubis.monitoring import exporter
from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import CONFIG, SERVICES, start_extra_agent

ALL = [*SERVICES, "network"]


class MonitoredCloud(cloud_fixture.Cloud):
    agents: dict[str, list[Any]]  # extra compute host -> what to stop to kill its agent
    exporter_url: str
    conf: cfg.ConfigOpts


def cloud_conf(cloud: cloud_fixture.Cloud, **exporter_opts: Any) -> cfg.ConfigOpts:
    """The all-in-one's config as nubis-exporter and nubis-manage read it."""
    conf = common.build_conf([services.load(n) for n in ["identity", *ALL]])
    monitoring_conf.register_opts(conf)
    config.parse_args(conf, [], default_config_files=[os.path.join(cloud.aio.state_dir, "all-in-one.conf")])
    for key, value in exporter_opts.items():
        conf.set_override(key, value, group="exporter")
    return conf


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: Any) -> Iterator[MonitoredCloud]:
    tmp = tmp_path_factory.mktemp("monitoring")
    with cloud_fixture.running_cloud(tmp, ALL, extra_config=CONFIG) as base:
        c = MonitoredCloud(base.aio)
        c.agents = {}
        http = None
        try:
            for host in ("compute-2", "compute-3"):
                _, running = start_extra_agent(c, host)
                c.agents[host] = running
            c.conf = cloud_conf(c, cache_seconds=0)
            http = server.HttpServer("exporter", "127.0.0.1", 0, exporter.build_app(c.conf), threads=2,
                                     shutdown_timeout=2)
            http.start()
            c.exporter_url = f"http://127.0.0.1:{http.port}/metrics"
            yield c
        finally:
            if http is not None:
                http.stop()
            for running in c.agents.values():
                for item in reversed(running):
                    item.stop()


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Exposition text -> metric name -> [(labels, value)]."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def value(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    """The one sample of ``name`` whose labels include ``labels``; AssertionError naming what was there."""
    found = [v for lab, v in metrics.get(name, []) if all(lab.get(k) == w for k, w in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {found} among {metrics.get(name)}"
    return found[0]
