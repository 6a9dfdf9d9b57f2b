"""Server groups: affinity policies the scheduler applies to their members."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.compute.db.models import Instance, ServerGroup, ServerGroupMember

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


class ServerGroupStore:
    def __init__(self, db: Database, limits: Callable[[str | None, Any], dict[str, int]]) -> None:
        self.db = db
        self.limits = limits  # (project_id, session) -> effective quota limits

    @staticmethod
    def _members(s: Any, group: ServerGroup) -> list[tuple[str, str | None]]:
        """(instance uuid, host) of the group's live members."""
        return [(u, h) for u, h in s.execute(
            sa.select(Instance.uuid, Instance.host).join(
                ServerGroupMember, ServerGroupMember.instance_uuid == Instance.uuid)
            .where(ServerGroupMember.group_id == group.id, Instance.deleted.is_(False)).order_by(Instance.created_at))]

    def as_dict(self, s: Any, group: ServerGroup) -> dict[str, Any]:
        """The group as a record: id, name, members (live instance uuids), policy, max_server_per_host, owner."""
        return {"id": group.uuid, "name": group.name, "members": [u for u, _ in self._members(s, group)],
                "policy": group.policy, "max_server_per_host": group.max_server_per_host,
                "project_id": group.project_id, "user_id": group.user_id}

    def create(self, ctx: RequestContext, name: str, policy: str, max_per_host: int | None) -> dict[str, Any]:
        """A new group of the caller's project (403 over the server_groups quota)."""
        if policy not in POLICIES:
            raise exceptions.BadRequest(f"Invalid policy {policy!r}: use one of {', '.join(POLICIES)}.")
        if max_per_host is not None and policy != "anti-affinity":
            raise exceptions.BadRequest("Only the anti-affinity policy takes a rule: max_server_per_host.")
        with self.db.writer() as s:
            quota = self.limits(ctx.project_id, s)["server_groups"]
            if quota >= 0:
                count = s.scalar(sa.select(sa.func.count()).select_from(ServerGroup).where(
                    ServerGroup.project_id == ctx.project_id)) or 0
                if count >= quota:
                    raise exceptions.Forbidden(f"Quota exceeded, too many server groups ({count} of {quota}).")
            group = ServerGroup(name=name, project_id=ctx.project_id, user_id=ctx.user_id, policy=policy,
                                max_server_per_host=max_per_host)
            s.add(group)
            s.flush()
            return self.as_dict(s, group)

    def _row(self, s: Any, ctx: RequestContext, uuid: str) -> ServerGroup:
        group = s.scalar(sa.select(ServerGroup).where(ServerGroup.uuid == uuid))
        if group is None or (not ctx.is_admin and group.project_id != ctx.project_id):
            raise exceptions.NotFound(f"Instance group {uuid} could not be found.")
        return group

    def get(self, ctx: RequestContext, uuid: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return self.as_dict(s, self._row(s, ctx, uuid))

    def list(self, ctx: RequestContext, all_projects: bool, limit: int | None = None,
             offset: int = 0) -> list[dict[str, Any]]:
        q = sa.select(ServerGroup).order_by(ServerGroup.created_at, ServerGroup.id).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        if not all_projects:
            q = q.where(ServerGroup.project_id == ctx.project_id)
        with self.db.reader() as s:
            return [self.as_dict(s, g) for g in s.scalars(q)]

    def delete(self, ctx: RequestContext, uuid: str) -> None:
        with self.db.writer() as s:
            s.delete(self._row(s, ctx, uuid))

    def join(self, s: Any, ctx: RequestContext, uuid: str, instance_uuids: builtins.list[str]) -> dict[str, Any]:
        """Add new instances to a group (inside the boot's transaction); returns the scheduler's view of it."""
        group = self._row(s, ctx, uuid)
        members = self._members(s, group)
        quota = self.limits(group.project_id, s)["server_group_members"]
        if quota >= 0 and len(members) + len(instance_uuids) > quota:
            raise exceptions.Forbidden(f"Quota exceeded, too many servers in group {uuid} "
                                       f"({len(members)} of {quota}).")
        for instance_uuid in instance_uuids:
            s.add(ServerGroupMember(group_id=group.id, instance_uuid=instance_uuid))
        return {"policy": group.policy, "hosts": [h for _, h in members if h],
                "max_per_host": group.max_server_per_host or 1}

    @classmethod
    def scheduler_view(cls, s: Any, instance_uuid: str) -> dict[str, Any] | None:
        """The group of an existing instance as the scheduler needs it to move that instance, or None."""
        group = s.scalar(sa.select(ServerGroup).join(ServerGroupMember).where(
            ServerGroupMember.instance_uuid == instance_uuid))
        if group is None:
            return None
        return {"policy": group.policy, "max_per_host": group.max_server_per_host or 1,
                "hosts": [h for u, h in cls._members(s, group) if h and u != instance_uuid]}

    def of_instance(self, instance_uuid: str) -> builtins.list[str]:
        with self.db.reader() as s:
            return list(s.scalars(sa.select(ServerGroup.uuid).join(ServerGroupMember).where(
                ServerGroupMember.instance_uuid == instance_uuid)))
