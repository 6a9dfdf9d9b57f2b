"""Where the metadata service reads an instance's facts: the compute database (the instance) and
the network database (its ports, subnets and floating IPs). It only reads."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nubis.common.db.engine import Database
from nubis.compute.db import models as compute_models
from nubis.compute.metadata import InstanceFacts
from nubis.network.db import models as net


class MetadataSource:
    def __init__(self, compute_db: Database, network_db: Database) -> None:
        self.compute_db = compute_db
        self.network_db = network_db

    def facts(self, uuid: str) -> InstanceFacts | None:
        with self.compute_db.reader() as s:
            inst = s.get(compute_models.Instance, uuid)
            if inst is None or inst.deleted:
                return None
            return InstanceFacts(uuid=inst.uuid, name=inst.name, project_id=inst.project_id,
                                 availability_zone=inst.availability_zone, metadata=dict(inst.metadata_items or {}),
                                 key_name=inst.key_name, key_data=inst.key_data, user_data=inst.user_data,
                                 flavor_name=(inst.flavor or {}).get("name", ""))

    def ports(self, uuid: str) -> list[dict[str, Any]]:
        """The instance's ports with their addresses and subnet details (for network_data.json)."""
        with self.network_db.reader() as s:
            ports = s.scalars(sa.select(net.Port).where(net.Port.device_id == uuid).order_by(net.Port.created_at))
            out = []
            for port in ports:
                ips = s.scalars(sa.select(net.IPAllocation).where(net.IPAllocation.port_id == port.id)).all()
                subnets = {sub.id: {"cidr": sub.cidr, "gateway_ip": sub.gateway_ip, "enable_dhcp": sub.enable_dhcp,
                                    "dns_nameservers": sub.dns_nameservers, "host_routes": sub.host_routes}
                           for sub in s.scalars(sa.select(net.Subnet).where(
                               net.Subnet.id.in_([a.subnet_id for a in ips])))}
                network = s.get(net.Network, port.network_id)
                out.append({"id": port.id, "network_id": port.network_id, "mac_address": port.mac_address,
                            "mtu": network.mtu if network else None, "subnets": subnets,
                            "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in ips]})
            return out

    def addresses(self, uuid: str) -> tuple[str | None, str | None]:
        """(first fixed IPv4, its floating IP) for the EC2 local-ipv4 / public-ipv4."""
        local = public = None
        for port in self.ports(uuid):
            for ip in port["fixed_ips"]:
                if ":" not in ip["ip_address"]:
                    local = local or ip["ip_address"]
        if local:
            with self.network_db.reader() as s:
                public = s.scalar(sa.select(net.FloatingIP.floating_ip_address).where(
                    net.FloatingIP.fixed_ip_address == local,
                    net.FloatingIP.port_id.in_(sa.select(net.Port.id).where(net.Port.device_id == uuid))))
        return local, public
