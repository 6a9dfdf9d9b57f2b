"""Host reports for admins: hypervisor search and totals, per-host resources, the instance usage audit log.

These back Nova's older admin APIs (``os-hosts``, ``os-hypervisors/statistics``, ``.../search``,
``.../servers``, ``os-instance_usage_audit_log``).
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.compute.core.services import ServiceStore
from nubis.compute.db.models import ComputeNode, Instance

# The figures os-hypervisors/statistics adds up over every hypervisor.
_SUMMED = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
           "free_disk_gb", "current_workload", "running_vms", "disk_available_least")
_PERIOD_FORMAT = "%Y-%m-%d %H:%M:%S"


def _audit_period(before: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The last whole month ending at or before ``before`` (Nova's default ``instance_usage_audit_period``)."""
    end = before.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - datetime.timedelta(days=1)).replace(day=1)
    return start, end


class HostReport:
    def __init__(self, db: Database, services: ServiceStore) -> None:
        self.db = db
        self.services = services

    def statistics(self) -> dict[str, int]:
        """Totals over all hypervisors, with their ``count``."""
        found = self.services.hypervisors(True)
        return {"count": len(found), **{k: sum(int(h[k] or 0) for h in found) for k in _SUMMED}}

    def matching(self, pattern: str, with_servers: bool) -> list[dict[str, Any]]:
        """Hypervisors whose host name contains ``pattern`` (any case), with their servers if asked.

        :raises NotFound: when none matches (as Nova answers a search).
        """
        wanted = pattern.lower()
        found = [h for h in self.services.hypervisors(False) if wanted in h["hypervisor_hostname"].lower()]
        if not found:
            raise exceptions.NotFound(f"No hypervisor matching '{pattern[:255]}' could be found.")
        if with_servers:
            with self.db.reader() as s:
                hosts = dict(s.execute(sa.select(ComputeNode.uuid, ComputeNode.host)
                                       .where(ComputeNode.uuid.in_([h["id"] for h in found]))).all())
                rows = s.execute(sa.select(Instance.host, Instance.uuid, Instance.name).where(
                    Instance.host.in_(set(hosts.values())), Instance.deleted.is_(False)).order_by(Instance.created_at))
                servers: dict[str | None, list[dict[str, str]]] = {}
                for host, uuid, name in rows:
                    servers.setdefault(host, []).append({"uuid": uuid, "name": name})
            for h in found:  # Nova leaves ``servers`` out of a hypervisor running none
                if servers.get(hosts.get(h["id"], "")):
                    h["servers"] = servers[hosts[h["id"]]]
        return found

    def hosts(self, zone: str | None) -> list[dict[str, str]]:
        """One entry per service (``compute``, ``conductor``) and its host, in ``zone`` if given (os-hosts)."""
        return [{"host_name": svc["host"], "service": svc["binary"].removeprefix("nova-"), "zone": svc["zone"]}
                for svc in self.services.list() if not zone or svc["zone"] == zone]

    def resources(self, host: str) -> list[dict[str, Any]]:
        """A host's capacity ``(total)``, what its servers use (``(used_now)``, ``(used_max)``), and per project.

        :raises NotFound: when ``host`` runs no compute service.
        """
        with self.db.reader() as s:
            node = s.scalar(sa.select(ComputeNode).where(ComputeNode.host == host))
            if node is None:
                raise exceptions.NotFound(f"Compute host {host[:255]} could not be found.")
            per_project = s.execute(
                sa.select(Instance.project_id, sa.func.sum(Instance.vcpus), sa.func.sum(Instance.memory_mb),
                          sa.func.sum(Instance.root_gb))
                .where(Instance.host == host, Instance.deleted.is_(False))
                .group_by(Instance.project_id).order_by(Instance.project_id)).all()
            total = (node.vcpus, node.memory_mb, node.local_gb)
        used = tuple(sum(int(row[i] or 0) for row in per_project) for i in (1, 2, 3))
        rows = [("(total)", *total), ("(used_now)", *used), ("(used_max)", *used),
                *((p, int(c or 0), int(m or 0), int(d or 0)) for p, c, m, d in per_project)]
        return [{"resource": {"host": host, "project": p, "cpu": c, "memory_mb": m, "disk_gb": d}}
                for p, c, m, d in rows]

    def audit_log(self, before: datetime.datetime | None) -> dict[str, Any]:
        """The instance usage audit of the last whole month before ``before`` (default: now).

        No host runs Nova's periodic usage audit here (Nova's ``instance_usage_audit`` is off by default), so
        every compute host is listed as not run; ``total_instances`` counts servers active in the period.
        """
        start, end = _audit_period(before or types.utcnow())
        hosts = sorted({svc["host"] for svc in self.services.list()})
        with self.db.reader() as s:
            active = s.scalar(sa.select(sa.func.count()).select_from(Instance).where(
                sa.func.coalesce(Instance.launched_at, Instance.created_at) < end,
                sa.or_(Instance.terminated_at.is_(None), Instance.terminated_at >= start))) or 0
        return {"hosts_not_run": hosts, "log": {}, "num_hosts": len(hosts), "num_hosts_done": 0,
                "num_hosts_not_run": len(hosts), "num_hosts_running": 0,
                "overall_status": f"0 of {len(hosts)} hosts done. 0 errors.",
                "period_beginning": start.strftime(_PERIOD_FORMAT), "period_ending": end.strftime(_PERIOD_FORMAT),
                "total_errors": 0, "total_instances": int(active)}
