"""An instance's ports as the metadata service describes them (network_data.json, EC2 addresses).

Read here, in the network service that owns these tables; ``nubis-metadata``
asks for them over RPC (``nubis.network.metadata_rpc``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nubis.common.db.engine import Database
from nubis.network.db import models as net


def _bound_to(instance_uuid: str) -> sa.ColumnElement[bool]:
    """The instance's ports: its device_id, and bound to a host. Any tenant may write any device_id on a
    port of its own, but only compute (an admin) binds, and only ports of the instance's project; without
    the binding, another project's port would show up in this guest's metadata."""
    return sa.and_(net.Port.device_id == instance_uuid, net.Port.binding_host_id != "")


def ports_of(database: Database, instance_uuid: str) -> list[dict[str, Any]]:
    """The instance's ports, oldest first: ``[{id, network_id, mac_address, mtu, subnets: {id: {cidr,
    gateway_ip, enable_dhcp, dns_nameservers, host_routes}}, fixed_ips: [{subnet_id, ip_address}]}]``."""
    with database.reader() as s:
        ports = s.scalars(sa.select(net.Port).where(_bound_to(instance_uuid))
                          .order_by(net.Port.created_at))
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


def floating_ip_of(database: Database, instance_uuid: str, fixed_ip: str) -> str | None:
    """The floating IP associated with ``fixed_ip`` on one of the instance's ports, if any."""
    with database.reader() as s:
        return s.scalar(sa.select(net.FloatingIP.floating_ip_address).where(
            net.FloatingIP.fixed_ip_address == fixed_ip,
            net.FloatingIP.port_id.in_(sa.select(net.Port.id).where(_bound_to(instance_uuid)))))
