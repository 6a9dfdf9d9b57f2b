"""RPC between the network service and its per-host agents (agents hold no database credentials).

Topic ``network`` (the servers; any one answers), version history:
  1.0 - report_state, host_state, update_port_status, metadata_target

Topic ``network-agent`` (every agent; fanout), version history:
  1.0 - changed
"""

from __future__ import annotations

from typing import Any

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext

SERVER_TOPIC = "network"
AGENT_TOPIC = "network-agent"


class NetworkServerAPI(rpc.RPCClient):
    """What an agent asks the network service."""

    TOPIC = SERVER_TOPIC
    VERSION = "1.0"

    def report_state(self, ctxt: RequestContext, host: str, configurations: dict[str, Any], starting: bool) -> str:
        """A heartbeat (registration on the first one); returns the agent's id."""
        return self.prepare(version="1.0").call(
            ctxt, "report_state", host=host, configurations=configurations, starting=starting)

    def host_state(self, ctxt: RequestContext, host: str) -> dict[str, Any]:
        """Everything the host must wire: its networks, ports, security groups, routers, DHCP."""
        return self.prepare(version="1.0").call(ctxt, "host_state", host=host)

    def update_port_status(self, ctxt: RequestContext, host: str, statuses: dict[str, str]) -> None:
        """``{port_id: "ACTIVE" | "DOWN"}`` for ports the host wired or lost."""
        self.prepare(version="1.0").call(ctxt, "update_port_status", host=host, statuses=statuses)

    def metadata_target(self, ctxt: RequestContext, network_id: str, address: str) -> dict[str, str] | None:
        """Which instance (and project) holds ``address`` on ``network_id``; None if none does."""
        return self.prepare(version="1.0").call(
            ctxt, "metadata_target", network_id=network_id, address=address)


class NetworkServerEndpoint:
    target = oslo_messaging.Target(version="1.0")

    def __init__(self, sync: Any) -> None:
        self.sync = sync

    def report_state(self, ctxt: RequestContext, host: str, configurations: dict[str, Any], starting: bool) -> str:
        return self.sync.report_state(host, configurations, starting)

    def host_state(self, ctxt: RequestContext, host: str) -> dict[str, Any]:
        return self.sync.host_state(host)

    def update_port_status(self, ctxt: RequestContext, host: str, statuses: dict[str, str]) -> None:
        self.sync.update_port_status(host, statuses)

    def metadata_target(self, ctxt: RequestContext, network_id: str, address: str) -> dict[str, str] | None:
        return self.sync.metadata_target(network_id, address)


class NetworkAgentAPI(rpc.RPCClient):
    """What the network service tells every agent."""

    TOPIC = AGENT_TOPIC
    VERSION = "1.0"
    UPGRADE_LEVEL = "network_agent"

    def changed(self, ctxt: RequestContext, event: str, resource_id: str | None) -> None:
        """Something agents may have wired changed; each fetches its host's state again (fanout cast)."""
        self.prepare(version="1.0", fanout=True).cast(ctxt, "changed", event=event, resource_id=resource_id)


class NetworkAgentEndpoint:
    target = oslo_messaging.Target(version="1.0")

    def __init__(self, agent: Any) -> None:
        self.agent = agent

    def changed(self, ctxt: RequestContext, event: str, resource_id: str | None) -> None:
        self.agent.request_sync(event)
