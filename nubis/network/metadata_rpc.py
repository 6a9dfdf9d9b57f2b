"""RPC from nubis-metadata to the network service: an instance's ports.

Topic ``network`` (the servers; any one answers), namespace ``metadata``, version history:
  1.0 - instance_ports, floating_ip
"""

from __future__ import annotations

from typing import Any

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.network.core import instance_ports
from nubis.network.rpcapi import SERVER_TOPIC

NAMESPACE = "metadata"


class NetworkMetadataAPI(rpc.RPCClient):
    """What the metadata service asks the network service."""

    TOPIC = SERVER_TOPIC
    VERSION = "1.0"
    UPGRADE_LEVEL = "network_metadata"  # its own version history (namespace metadata)

    def instance_ports(self, ctxt: RequestContext, instance_uuid: str) -> list[dict[str, Any]]:
        """The instance's ports (shape: ``instance_ports.ports_of``)."""
        return self.prepare(version="1.0", namespace=NAMESPACE).call(
            ctxt, "instance_ports", instance_uuid=instance_uuid)

    def floating_ip(self, ctxt: RequestContext, instance_uuid: str, fixed_ip: str) -> str | None:
        """The floating IP of ``fixed_ip`` on the instance's ports, or None."""
        return self.prepare(version="1.0", namespace=NAMESPACE).call(
            ctxt, "floating_ip", instance_uuid=instance_uuid, fixed_ip=fixed_ip)


class NetworkMetadataEndpoint:
    target = oslo_messaging.Target(namespace=NAMESPACE, version="1.0")

    def __init__(self, database: Database) -> None:
        self.database = database

    def instance_ports(self, ctxt: RequestContext, instance_uuid: str) -> list[dict[str, Any]]:
        return instance_ports.ports_of(self.database, instance_uuid)

    def floating_ip(self, ctxt: RequestContext, instance_uuid: str, fixed_ip: str) -> str | None:
        return instance_ports.floating_ip_of(self.database, instance_uuid, fixed_ip)
