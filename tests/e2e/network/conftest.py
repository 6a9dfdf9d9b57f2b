"""A network service with two agents on simulated hosts (namespaces), as root."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from nubis import services
from nubis.cmd import common
from nubis.common import config
from nubis.common.runtime import Runtime
from nubis.network import agent_service
from nubis.network.agent.manager import NetworkAgent
from tests.e2e.network import sim
from tests.functional import cloud as cloud_fixture

PREFIX = f"nbt{uuid.uuid4().hex[:5]}"
HOST_A, HOST_B, OUTSIDE = f"{PREFIX}-host-a", f"{PREFIX}-host-b", f"{PREFIX}-outside"
UNDERLAY_A, UNDERLAY_B = "10.250.0.1", "10.250.0.2"
OUTSIDE_GATEWAY = "172.24.4.1"


def agent_options(host_ns: str, tunnel_ip: str, l3: bool) -> dict[str, str]:
    return {"dataplane": "linux", "host_namespace": host_ns, "tunnel_ip": tunnel_ip, "l3": str(l3).lower(),
            "bridge_mappings": "public:ext0" if l3 else "", "poll_interval": "0.2", "report_interval": "2",
            "resync_interval": "5"}


def start_agent(cloud: cloud_fixture.Cloud, host: str, options: dict[str, str]) -> list[Any]:
    """Another agent in this process, on the cloud's transport, standing for ``host``."""
    aio = cloud.aio
    assert aio.runtime is not None
    conf = common.build_conf([services.load(n) for n in ("identity", "network", "network-agent")])
    config.parse_args(conf, [], default_config_files=[os.path.join(aio.state_dir, "all-in-one.conf")])
    conf.set_override("host", host)
    for key, value in options.items():
        conf.set_override(key, value, group="network_agent")
    return list(agent_service.start(Runtime(conf, messaging=aio.runtime.messaging)))


@pytest.fixture(scope="module")
def hosts() -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.fail("the data plane tests need root")
    for ns in (HOST_A, HOST_B, OUTSIDE):
        sim.add_ns(ns)
    try:
        sim.link_pair(HOST_A, "under0", HOST_B, "under0", f"{UNDERLAY_A}/24", f"{UNDERLAY_B}/24")
        sim.link_pair(HOST_A, "ext0", OUTSIDE, "uplink", None, f"{OUTSIDE_GATEWAY}/24")
        yield
    finally:
        for ns in (HOST_A, HOST_B, OUTSIDE):
            sim.delete_ns(ns)


class DataPlaneCloud(cloud_fixture.Cloud):
    """The cloud, with what runs each simulated host's agent (host A's is the cloud's own)."""

    extra: dict[str, list[Any]]

    def agent(self, host: str) -> NetworkAgent:
        items = self.aio.running if host == HOST_A else self.extra[host]
        return next(i for i in items if isinstance(i, NetworkAgent))

    def restart_agent(self, host: str, options: dict[str, str]) -> NetworkAgent:
        for item in reversed(self.extra.get(host, [])):
            item.stop()
        self.extra[host] = start_agent(self, host, options)
        return self.agent(host)


@pytest.fixture(scope="module")
def cloud(hosts, tmp_path_factory) -> Iterator[DataPlaneCloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("dataplane")
    extra = {"identity": {"password_hash_rounds": "4"},
             "network": {"flat_networks": "public", "vni_ranges": "300:399"},
             "DEFAULT": {"host": HOST_A},
             "network_agent": agent_options(HOST_A, UNDERLAY_A, l3=True)}
    with cloud_fixture.running_cloud(tmp, ["network", "network-agent"], extra_config=extra) as base:
        c = DataPlaneCloud(base.aio)
        c.extra = {HOST_B: start_agent(c, HOST_B, agent_options(HOST_B, UNDERLAY_B, l3=False))}
        agents = [c.agent(HOST_A)]
        try:
            yield c
        finally:
            agents.append(c.agent(HOST_B))
            for items in c.extra.values():
                for item in reversed(items):
                    item.stop()
            for agent in agents:  # dnsmasq, namespaces, rules and bridges go with the test
                agent.stop()  # first, or its next round would build it all again
                agent.dataplane.teardown()  # type: ignore[attr-defined]
