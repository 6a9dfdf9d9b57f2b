"""The network API service as the commands see it: the HTTP API, and the RPC server its agents talk to."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from oslo_config import cfg

from nubis.api import deploy, faults
from nubis.common import clients, context, rpc
from nubis.common.runtime import Runtime
from nubis.network import conf, db, metadata_rpc, notifications, policies, rpcapi
from nubis.network.api import handlers
from nubis.network.core.facade import NetworkCore
from nubis.network.core.hostsync import EventSender, HostSync
from nubis.services import ServiceDefinition, Stoppable

LOG = logging.getLogger(__name__)


def build_core(runtime: Runtime) -> NetworkCore:
    return NetworkCore(runtime.conf, runtime.database("network"), policies.make(runtime.conf))


def _tell_agents(agents: rpcapi.NetworkAgentAPI, event: str, payload: Mapping[str, Any]) -> None:
    try:
        agents.changed(context.admin_context(), event, payload.get("id"))
    except Exception:  # noqa: BLE001 - agents also resync periodically; the API call itself succeeded
        LOG.exception("Could not tell the agents about %s", event)


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    core = build_core(runtime)
    core.listeners.append(functools.partial(_tell_agents, rpcapi.NetworkAgentAPI(runtime.messaging)))
    core.listeners.append(notifications.listener(rpc.Notifier(runtime.messaging, "network", runtime.conf.host)))
    spec = deploy.ApiSpec(name="network", routes=handlers.ROUTES, fault_format=faults.network_fault)
    return deploy.build_app(spec, runtime.conf, core)


def compute_events(c: cfg.ConfigOpts) -> EventSender | None:
    """Posts os-server-external-events (network-vif-plugged) to compute, if this cloud has compute."""
    compute = clients.optional_service_adapter(c, "compute")
    if compute is None:
        return None

    def send(events: list[dict[str, str]]) -> None:
        compute.post("/os-server-external-events", json={"events": events}, raise_exc=True)

    return send


def start(runtime: Runtime) -> Sequence[Stoppable]:
    sync = HostSync(build_core(runtime), compute_events(runtime.conf))
    return [rpc.start_server(runtime.messaging, rpcapi.SERVER_TOPIC, runtime.conf.host,
                             [rpcapi.NetworkServerEndpoint(sync),
                              metadata_rpc.NetworkMetadataEndpoint(runtime.database("network"))])]


SERVICE = ServiceDefinition(
    name="network",
    console_script="nubis-network",
    port=9696,
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    build_api=build_api,
    start=start,
    policy_rules=policies.list_rules,
)
