"""Usage over a period per project (os-simple-tenant-usage): the basis for billing.

An instance counts from launch (or creation, if it never launched) to
termination (or now), clipped to the period; deleted instances are kept
(soft-deleted) for exactly this.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.compute.core import timestamps
from nubis.compute.db.models import Instance


def parse_time(text: str | None, default: datetime.datetime, field: str) -> datetime.datetime:
    """``text`` (a period's ``start`` or ``end``) as naive UTC, or ``default`` when not given."""
    return timestamps.parse(text, field) if text else default


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


class UsageReport:
    def __init__(self, db: Database) -> None:
        self.db = db

    def tenant_usages(self, start: datetime.datetime, end: datetime.datetime, project_id: str | None,
                      detailed: bool, marker: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Usage per project over [start, end). With ``marker`` (an instance uuid) and ``limit`` (instances),
        one page as Nova 2.40 pages it: the instances after the marker, in creation order, and the totals of
        those alone; a client follows pages until one has no server usages.

        :raises BadRequest: an empty period, or a marker no instance of the period has.
        """
        if end <= start:
            raise exceptions.BadRequest("Invalid start time: the period must end after it starts.")
        now = types.utcnow()
        q = sa.select(Instance).where(
            sa.func.coalesce(Instance.launched_at, Instance.created_at) < end,
            sa.or_(Instance.terminated_at.is_(None), Instance.terminated_at > start))
        if project_id:
            q = q.where(Instance.project_id == project_id)
        by_project: dict[str, dict[str, Any]] = {}
        with self.db.reader() as s:
            instances = list(s.scalars(q.order_by(Instance.created_at, Instance.uuid)))
            if marker is not None:
                after = next((i for i, inst in enumerate(instances) if inst.uuid == marker), None)
                if after is None:
                    raise exceptions.BadRequest(f"marker [{marker}] not found")
                instances = instances[after + 1:]
            for inst in instances[:limit]:
                began = inst.launched_at or inst.created_at
                ended = inst.terminated_at or now
                hours = max(0.0, (min(ended, end) - max(began, start)).total_seconds() / 3600)
                entry = by_project.setdefault(inst.project_id, {
                    "tenant_id": inst.project_id, "total_hours": 0.0, "total_vcpus_usage": 0.0,
                    "total_memory_mb_usage": 0.0, "total_local_gb_usage": 0.0, "start": start.isoformat(),
                    "stop": end.isoformat(), "server_usages": []})
                entry["total_hours"] += hours
                entry["total_vcpus_usage"] += hours * inst.vcpus
                entry["total_memory_mb_usage"] += hours * inst.memory_mb
                entry["total_local_gb_usage"] += hours * inst.root_gb
                if detailed:
                    entry["server_usages"].append({
                        "instance_id": inst.uuid, "name": inst.name, "hours": hours, "vcpus": inst.vcpus,
                        "memory_mb": inst.memory_mb, "local_gb": inst.root_gb, "tenant_id": inst.project_id,
                        "flavor": inst.flavor.get("name"), "started_at": _iso(began), "ended_at": _iso(inst.terminated_at),
                        "state": "terminated" if inst.deleted else inst.vm_state,
                        "uptime": int((min(ended, now) - began).total_seconds())})
        out = list(by_project.values())
        if not detailed:
            for entry in out:
                entry.pop("server_usages")
        return out
