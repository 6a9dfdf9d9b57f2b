"""The per-host compute agent as the commands see it. It holds no database credentials."""

from __future__ import annotations

import os
from collections.abc import Sequence

from oslo_config import cfg

from nubis.common import clients, rpc
from nubis.common.clients.image import ImageClient
from nubis.common.clients.placement import PlacementClient
from nubis.common.runtime import Runtime
from nubis.compute import conf
from nubis.compute.agent.manager import ComputeAgent
from nubis.compute.agent.rpcapi import TOPIC, ComputeAgentEndpoint
from nubis.compute.conductor.rpcapi import ConductorAPI
from nubis.compute.networking import Networking
from nubis.compute.virt import fake
from nubis.compute.virt.driver import ComputeDriver, HostResources, NumaCell
from nubis.scheduler.rpcapi import SchedulerAPI
from nubis.services import ServiceDefinition, Stoppable


def fake_host(c: cfg.ConfigOpts) -> HostResources:
    """The fake driver's host: two NUMA cells sharing the configured CPUs and memory, 2 CPUs each kept shared."""
    per_cell = max(c.compute.fake_vcpus // 2, 3)
    cells = tuple(NumaCell(id=i, cpus=tuple(range(i * per_cell + 2, (i + 1) * per_cell)),
                           shared_cpus=(i * per_cell, i * per_cell + 1), memory_mb=c.compute.fake_memory_mb // 2,
                           pages={2048: c.compute.fake_memory_mb // 8}) for i in range(2))
    return HostResources(hypervisor_type="fake", hypervisor_hostname=c.host, vcpus=per_cell * 2,
                         memory_mb=c.compute.fake_memory_mb, disk_gb=c.compute.fake_disk_gb, cells=cells,
                         cpu_info={"arch": "x86_64", "model": "fake"})


def make_driver(c: cfg.ConfigOpts) -> ComputeDriver:
    if c.compute.virt_driver == "fake":
        # Its guests are kept under the state path: they outlive the agent, as a hypervisor's do.
        return fake.FakeDriver(fake_host(c), os.path.join(c.state_path, f"fake-guests-{c.host}.json"),
                               c.compute.fake_spawn_seconds, c.compute.fake_destroy_seconds)
    # Imported here: libvirt-python is only needed on hosts that run real guests.
    from nubis.compute.virt.libvirt.driver import LibvirtDriver

    return LibvirtDriver(c, ImageClient.from_conf(c, optional=True))


def build_agent(runtime: Runtime, driver: ComputeDriver | None = None) -> ComputeAgent:
    c = runtime.conf
    return ComputeAgent(c, driver or make_driver(c), ConductorAPI(runtime.messaging, c.compute.rpc_timeout),
                        SchedulerAPI(runtime.messaging, c.compute.rpc_timeout),
                        PlacementClient(clients.service_adapter(c, "placement")),
                        rpc.Notifier(runtime.messaging, "compute", c.host),
                        ImageClient.from_conf(c, optional=True),
                        Networking.from_conf(c))


def start(runtime: Runtime, driver: ComputeDriver | None = None) -> Sequence[Stoppable]:
    agent = build_agent(runtime, driver)
    server = rpc.start_server(runtime.messaging, TOPIC, runtime.conf.host, [ComputeAgentEndpoint(agent)])
    agent.start()
    # Stopped in reverse: the agent first, so work waiting on others (a build waiting for its ports) gives up
    # waiting and is set aside for the next start; then the server, which waits for the messages in hand.
    return [server, agent]


SERVICE = ServiceDefinition(
    name="compute",
    console_script="nubis-compute",
    list_opts=conf.list_opts,
    start=start,
)
