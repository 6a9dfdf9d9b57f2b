"""Compute services (up/down from heartbeats, enable/disable) and the hypervisors they run."""

from __future__ import annotations

import builtins
import datetime
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.compute.core.host_settings import HostSettings
from nubis.compute.db.models import ComputeNode, Instance, Service

# The names the API gives the services' binaries: Nova's, which clients filter on (``binary=nova-compute``),
# whatever the process is called here. The stored rows keep the process's own name.
API_BINARY = {"nubis-compute": "nova-compute", "nubis-conductor": "nova-conductor"}
_STORED_BINARY = {shown: stored for stored, shown in API_BINARY.items()}
COMPUTE_BINARY = "nubis-compute"
# Services that host no servers (the conductor) are in Nova's internal zone, not a zone servers can ask for.
INTERNAL_ZONE = "internal"
IS_COMPUTE = Service.binary == COMPUTE_BINARY


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _by_id(model: Any, ident: str) -> Any:
    """The condition naming a row by its UUID, or by its integer id (how the API names it before 2.53)."""
    return model.id == int(ident) if ident.isdigit() and len(ident) < 10 else model.uuid == ident


def uptime_text(started_at: datetime.datetime | None, now: datetime.datetime) -> str | None:
    """The host's uptime in the shape of uptime(1), as os-hypervisors shows it."""
    if started_at is None:
        return None
    minutes = int((now - started_at).total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    return f" {now:%H:%M:%S} up {days} days, {rest // 60:2d}:{rest % 60:02d}"


class ServiceStore:
    def __init__(self, conf: cfg.ConfigOpts, db: Database, settings: HostSettings) -> None:
        self.conf = conf
        self.db = db
        self.settings = settings

    def _up(self, row: Service) -> bool:
        age = (types.utcnow() - row.last_seen_up).total_seconds()
        return not row.forced_down and age <= self.conf.compute.service_down_time

    def is_up(self, host: str) -> bool:
        with self.db.reader() as s:
            row = s.scalar(sa.select(Service).where(Service.host == host, IS_COMPUTE))
            return row is not None and self._up(row)

    def host_statuses(self, hosts: Iterable[str | None]) -> dict[str, str]:
        """The ``host_status`` of each named host, as Nova's server views show it (microversion 2.16).

        ``DOWN`` when an admin forced the service down, ``MAINTENANCE`` when it is disabled, ``UP`` while it
        heartbeats within ``[compute] service_down_time``, ``UNKNOWN`` once it stops (its agent may be dead
        or only cut off), and ``""`` for a host with no compute service. One query for all the hosts.
        """
        wanted = {h for h in hosts if h}
        if not wanted:
            return {}
        with self.db.reader() as s:
            rows = {r.host: r for r in s.scalars(sa.select(Service).where(Service.host.in_(sorted(wanted)),
                                                                          IS_COMPUTE))}
            return {host: self._host_status(rows.get(host)) for host in wanted}

    def _host_status(self, row: Service | None) -> str:
        if row is None:
            return ""
        if row.forced_down:
            return "DOWN"
        if row.disabled:
            return "MAINTENANCE"
        return "UP" if self._up(row) else "UNKNOWN"

    def hypervisor_type(self, host: str) -> str | None:
        with self.db.reader() as s:
            return s.scalar(sa.select(ComputeNode.hypervisor_type).where(ComputeNode.host == host))

    def exists(self, host: str) -> bool:
        with self.db.reader() as s:
            return s.scalar(sa.select(Service.id).where(Service.host == host, IS_COMPUTE).limit(1)) is not None

    def as_dict(self, row: Service, zones: dict[str, str]) -> dict[str, Any]:
        # ``legacy_id``: the integer id the API shows before microversion 2.53.
        return {"id": row.uuid, "legacy_id": row.id, "binary": API_BINARY.get(row.binary, row.binary),
                "host": row.host,
                "zone": zones.get(row.host, self.settings.default_zone) if row.binary == COMPUTE_BINARY
                else INTERNAL_ZONE,
                "status": "disabled" if row.disabled else "enabled", "state": "up" if self._up(row) else "down",
                "updated_at": _iso(row.last_seen_up), "disabled_reason": row.disabled_reason,
                "forced_down": row.forced_down}

    def list(self, host: str | None = None, binary: str | None = None) -> list[dict[str, Any]]:
        q = sa.select(Service).order_by(Service.host, Service.binary)
        if host:
            q = q.where(Service.host == host)
        if binary:
            q = q.where(Service.binary == _STORED_BINARY.get(binary, binary))
        with self.db.reader() as s:
            zones = self.settings.zones(s)
            return [self.as_dict(r, zones) for r in s.scalars(q)]

    def availability_zones(self, detailed: bool) -> builtins.list[dict[str, Any]]:
        """Zones with compute hosts (and, in detail, which hosts and whether their service is up); the detail
        also shows Nova's ``internal`` zone of the services that host no servers (the conductor)."""
        found: dict[str, dict[str, Any]] = {}
        with self.db.reader() as s:
            zones = self.settings.zones(s)
            for svc in s.scalars(sa.select(Service).order_by(Service.host, Service.binary)):
                if svc.binary != COMPUTE_BINARY and not detailed:
                    continue
                name = zones.get(svc.host, self.settings.default_zone) if svc.binary == COMPUTE_BINARY \
                    else INTERNAL_ZONE
                zone = found.setdefault(name, {})
                zone.setdefault(svc.host, {})[API_BINARY.get(svc.binary, svc.binary)] = {
                    "available": self._up(svc) and not svc.disabled, "active": not svc.disabled,
                    "updated_at": _iso(svc.last_seen_up)}
        return [{"zoneName": name, "zoneState": {"available": any(
                    s["available"] for host in hosts.values() for s in host.values())},
                 "hosts": hosts if detailed else None} for name, hosts in sorted(found.items())]

    def update(self, ctx: RequestContext, service_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        status = changes.get("status")
        if status not in (None, "enabled", "disabled"):
            raise exceptions.BadRequest(f"Invalid status {status!r}: use enabled or disabled.")
        if "forced_down" in changes and not isinstance(changes["forced_down"], bool):
            raise exceptions.BadRequest("forced_down must be true or false.")
        if "disabled_reason" in changes and status != "disabled":
            raise exceptions.BadRequest("disabled_reason can be set only with status 'disabled'.")
        if not changes:
            raise exceptions.BadRequest("Give status, disabled_reason or forced_down.")
        with self.db.writer() as s:
            row = s.scalar(sa.select(Service).where(Service.uuid == service_id))
            if row is None:
                raise exceptions.NotFound(f"Service {service_id} not found.")
            if status is not None:
                row.disabled = status == "disabled"
                row.disabled_reason = changes.get("disabled_reason") if row.disabled else None
            if "forced_down" in changes:
                row.forced_down = changes["forced_down"]
            s.flush()
            shown, host = self.as_dict(row, self.settings.zones(s)), row.host
        if status is not None:
            self.settings.push(ctx, [host])
        return shown

    def delete(self, service_id: str) -> None:
        with self.db.writer() as s:
            row = s.scalar(sa.select(Service).where(_by_id(Service, service_id)))
            if row is None:
                raise exceptions.NotFound(f"Service {service_id} not found.")
            busy = s.scalar(sa.select(sa.func.count()).select_from(Instance).where(
                Instance.host == row.host, Instance.deleted.is_(False))) if row.binary == COMPUTE_BINARY else 0
            if busy:
                raise exceptions.Conflict(f"Unable to delete compute service that is hosting instances ({busy} on "
                                          f"{row.host}). Migrate or delete them first.")
            s.delete(row)
            if row.binary == COMPUTE_BINARY:
                s.execute(sa.delete(ComputeNode).where(ComputeNode.host == row.host))

    def hypervisors(self, detailed: bool, ident: str | None = None) -> builtins.list[dict[str, Any]]:
        with self.db.reader() as s:
            q = sa.select(ComputeNode).order_by(ComputeNode.host)
            if ident:
                q = q.where(_by_id(ComputeNode, ident))
            nodes = list(s.scalars(q))
            services = {r.host: r for r in s.scalars(sa.select(Service).where(IS_COMPUTE))}
            busy = sa.case((Instance.task_state.is_not(None), 1), else_=0)
            usage = {host: (n, vcpus, ram, disk, working) for host, n, vcpus, ram, disk, working in s.execute(
                sa.select(Instance.host, sa.func.count(), sa.func.sum(Instance.vcpus), sa.func.sum(Instance.memory_mb),
                          sa.func.sum(Instance.root_gb), sa.func.sum(busy))
                .where(Instance.deleted.is_(False), Instance.host.is_not(None)).group_by(Instance.host))}
            out = []
            for node in nodes:
                svc = services.get(node.host)
                body: dict[str, Any] = {
                    "id": node.uuid, "legacy_id": node.id, "hypervisor_hostname": node.hypervisor_hostname,
                    "state": "up" if svc is not None and self._up(svc) else "down",
                    "status": "disabled" if svc is not None and svc.disabled else "enabled"}
                if detailed:
                    running, vcpus, ram, disk, working = usage.get(node.host, (0, 0, 0, 0, 0))
                    ram_used, disk_used = int(ram or 0), int(disk or 0)
                    body.update({
                        "hypervisor_type": node.hypervisor_type, "hypervisor_version": 1000, "host_ip": "127.0.0.1",
                        "service": {"host": node.host, "id": svc.uuid if svc else None,
                                    "legacy_id": svc.id if svc else None,
                                    "disabled_reason": svc.disabled_reason if svc else None},
                        "vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.local_gb,
                        "vcpus_used": int(vcpus or 0), "memory_mb_used": ram_used, "local_gb_used": disk_used,
                        "free_ram_mb": node.memory_mb - ram_used, "free_disk_gb": node.local_gb - disk_used,
                        # Servers with a task under way (building, resizing, migrating...), as Nova counts them.
                        "current_workload": int(working or 0), "disk_available_least": node.local_gb - disk_used,
                        "running_vms": int(running), "cpu_info": node.cpu_info or {},
                        "uptime": uptime_text(node.host_started_at, types.utcnow())})
                out.append(body)
            return out
