"""Where the metadata service reads an instance's facts: the conductor (the instance) and the network
service (its ports and floating IPs), both over RPC; it reads no database itself."""

from __future__ import annotations

from typing import Any

from nubis.common.context import RequestContext
from nubis.compute.conductor.metadata_rpc import ConductorMetadataAPI
from nubis.compute.metadata import InstanceFacts
from nubis.network.metadata_rpc import NetworkMetadataAPI


class MetadataSource:
    """The facts one guest's metadata documents are built from."""

    def __init__(self, conductor: ConductorMetadataAPI, network: NetworkMetadataAPI | None) -> None:
        self.conductor = conductor
        self.network = network

    def facts(self, ctxt: RequestContext, uuid: str) -> InstanceFacts | None:
        """The instance, or None when there is no such (live) instance."""
        return self.conductor.instance_facts(ctxt, uuid)

    def password(self, ctxt: RequestContext, uuid: str) -> str:
        """The encrypted admin password the guest posted, "" for none."""
        return self.conductor.instance_password(ctxt, uuid)

    def set_password(self, ctxt: RequestContext, uuid: str, password: str) -> None:
        """Store the guest's encrypted password once (BadRequest over 256 bytes, Conflict when already set)."""
        self.conductor.set_instance_password(ctxt, uuid, password)

    def ports(self, ctxt: RequestContext, uuid: str) -> list[dict[str, Any]]:
        """The instance's ports with their addresses and subnets (for network_data.json); none without a
        network service."""
        return self.network.instance_ports(ctxt, uuid) if self.network else []

    def addresses(self, ctxt: RequestContext, uuid: str) -> tuple[str | None, str | None]:
        """(first fixed IPv4, its floating IP) for the EC2 local-ipv4 / public-ipv4."""
        local = next((ip["ip_address"] for port in self.ports(ctxt, uuid) for ip in port["fixed_ips"]
                      if ":" not in ip["ip_address"]), None)
        public = self.network.floating_ip(ctxt, uuid, local) if local and self.network else None
        return local, public
