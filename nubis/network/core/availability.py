"""Address usage per network and subnet, and the allocation history only admins may read."""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa

from nubis.network.core import common, errors, ipam, query
from nubis.network.db import models

HISTORY_FILTERS = ("ip_address", "subnet_id", "network_id", "port_id", "project_id", "device_id", "mac_address")


class Availability:
    def __init__(self, db: Any) -> None:
        self.db = db

    def _for(self, s: Any, nets: list[models.Network]) -> list[dict[str, Any]]:
        ids = [n.id for n in nets]
        subnets = list(s.scalars(sa.select(models.Subnet).where(models.Subnet.network_id.in_(ids)))) if ids else []
        used = ipam.used_counts(s, [x.id for x in subnets])
        out = []
        for net in nets:
            mine = [x for x in subnets if x.network_id == net.id]
            per = [{"subnet_id": x.id, "subnet_name": x.name, "cidr": x.cidr, "ip_version": x.ip_version,
                    "total_ips": ipam.pool_size(ipam.pools_of(x)), "used_ips": used.get(x.id, 0)} for x in mine]
            out.append({"network_id": net.id, "network_name": net.name, "project_id": net.project_id,
                        "tenant_id": net.project_id, "total_ips": sum(p["total_ips"] for p in per),
                        "used_ips": sum(p["used_ips"] for p in per), "subnet_ip_availability": per})
        return out

    def list(self, params: query.ListParams) -> list[dict[str, Any]]:
        q = sa.select(models.Network)
        for name in ("network_id", "network_name", "project_id", "tenant_id"):
            if name in params.filters:
                column = {"network_id": models.Network.id, "network_name": models.Network.name,
                          "project_id": models.Network.project_id, "tenant_id": models.Network.project_id}[name]
                q = q.where(column.in_(params.filters[name]))
        with self.db.reader() as s:
            return self._for(s, list(s.scalars(q)))

    def get(self, network_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            net = s.get(models.Network, network_id)
            if net is None:
                raise errors.not_found("Network", network_id)
            return self._for(s, [net])[0]

    def history(self, params: query.ListParams) -> builtins.list[dict[str, Any]]:
        """Who held which address when, newest first (the handler lets only admins ask: it spans projects)."""
        h = models.IPAllocationHistory
        q = sa.select(h).order_by(h.allocated_at.desc(), h.id.desc())
        for name in HISTORY_FILTERS:
            if name in params.filters:
                q = q.where(getattr(h, name).in_(params.filters[name]))
        q = q.limit(params.limit or 1000)
        with self.db.reader() as s:
            return [{"ip_address": r.ip_address, "subnet_id": r.subnet_id, "network_id": r.network_id,
                     "port_id": r.port_id, "project_id": r.project_id, "device_id": r.device_id,
                     "device_owner": r.device_owner, "mac_address": r.mac_address,
                     "allocated_at": common.fmt_time(r.allocated_at), "released_at": common.fmt_time(r.released_at)}
                    for r in s.scalars(q)]
