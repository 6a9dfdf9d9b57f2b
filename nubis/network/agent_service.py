"""The per-host network agent as the commands see it. It holds no database credentials."""

from __future__ import annotations

import os
from collections.abc import Sequence

from oslo_config import cfg

from nubis.common import context, rpc
from nubis.common.runtime import Runtime
from nubis.network import rpcapi
from nubis.network.agent import conf
from nubis.network.agent.dataplane import DataPlane, LinuxDataPlane, NoopDataPlane
from nubis.network.agent.ip import Netns
from nubis.network.agent.manager import NetworkAgent
from nubis.network.agent.metadata_proxy import MetadataProxies
from nubis.network.agent.traffic import TrafficReporter
from nubis.services import ServiceDefinition, Stoppable


def dataplane_kind(c: cfg.ConfigOpts) -> str:
    kind = c.network_agent.dataplane
    if kind == "auto":
        return "linux" if os.geteuid() == 0 else "noop"
    return str(kind)


def make_dataplane(c: cfg.ConfigOpts, server: rpcapi.NetworkServerAPI) -> DataPlane:
    a = c.network_agent
    if dataplane_kind(c) == "noop":
        return NoopDataPlane()
    ctxt = context.admin_context()
    proxies = MetadataProxies(a.metadata_url, c.metadata.shared_secret,
                              lambda network_id, address: server.metadata_target(ctxt, network_id, address))
    return LinuxDataPlane(Netns(a.host_namespace), os.path.join(conf.state_dir(c), c.host), a.tunnel_ip,
                          a.tunnel_port, a.bridge_mappings, a.dhcp_lease_duration, proxies)


def configurations(c: cfg.ConfigOpts) -> dict[str, object]:
    a = c.network_agent
    return {"tunnel_ip": a.tunnel_ip, "tunnel_port": a.tunnel_port, "bridge_mappings": dict(a.bridge_mappings),
            "l3": a.l3, "dhcp": a.dhcp, "dataplane": dataplane_kind(c), "tunnel_types": ["vxlan"]}


def build_agent(runtime: Runtime) -> NetworkAgent:
    c = runtime.conf
    server = rpcapi.NetworkServerAPI(runtime.messaging, c.network_agent.rpc_timeout)
    # Outbound traffic is measured where taps exist: the Linux data plane (the noop one has none).
    traffic = None
    if c.network_agent.traffic_interval and dataplane_kind(c) == "linux":
        traffic = TrafficReporter(Netns(c.network_agent.host_namespace), rpc.Notifier(runtime.messaging, "network",
                                  c.host), c.host, c.network_agent.traffic_interval)
    return NetworkAgent(c.host, server, make_dataplane(c, server), configurations(c),
                        c.network_agent.poll_interval, c.network_agent.resync_interval,
                        c.network_agent.report_interval, traffic)


def start(runtime: Runtime) -> Sequence[Stoppable]:
    agent = build_agent(runtime)
    server = rpc.start_server(runtime.messaging, rpcapi.AGENT_TOPIC, runtime.conf.host,
                              [rpcapi.NetworkAgentEndpoint(agent)])
    agent.start()
    return [agent, server]


SERVICE = ServiceDefinition(
    name="network-agent",
    console_script="nubis-network-agent",
    list_opts=conf.list_opts,
    start=start,
)
