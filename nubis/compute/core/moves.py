"""Moving servers between hosts as the API asks (admin): migrate, live-migrate, evacuate; and os-migrations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.compute import states
from nubis.compute.conductor.moves import COLD, EVACUATION, LIVE
from nubis.compute.core.servers import ServerCore
from nubis.compute.db.models import Migration

_TASK = {COLD: states.RESIZE_PREP, LIVE: states.MIGRATING, EVACUATION: states.REBUILDING}
_ALLOWED = {COLD: (states.ACTIVE, states.STOPPED), LIVE: (states.ACTIVE, states.PAUSED),
            EVACUATION: (states.ACTIVE, states.STOPPED, states.ERROR)}
_VERB = {COLD: "migrate", LIVE: "os-migrateLive", EVACUATION: "evacuate"}
_IN_PROGRESS = ("pre-migrating", "migrating")


class ServerMoves:
    def __init__(self, servers: ServerCore) -> None:
        self.servers = servers
        self.db = servers.db

    def move(self, ctx: RequestContext, uuid: str, kind: str, target: str | None) -> None:
        """Record the migration, claim a destination (400 with the scheduler's reasons if none), start the move."""
        s_ = self.servers
        inst, _ = s_.get(ctx, uuid)
        if not inst.host:
            raise exceptions.Conflict(f"Cannot '{_VERB[kind]}' instance {uuid}: it was never placed on a host")
        s_.refuse_volume_backed(uuid, _VERB[kind])
        if target == inst.host:
            raise exceptions.BadRequest(f"The target host {target} is the instance's own host.")
        if target is not None and not s_.services.exists(target):
            raise exceptions.BadRequest(f"Compute host {target} could not be found.")
        source_up = s_.services.is_up(inst.host)
        if kind == EVACUATION and source_up:
            raise exceptions.BadRequest(f"Compute service of {inst.host} is still in use: evacuate only from a host "
                                        "whose service is down (or forced down).")
        if kind != EVACUATION and not source_up:
            raise exceptions.Conflict(f"Compute service of {inst.host} is unavailable at this time: evacuate "
                                      "instead.")
        if kind != EVACUATION and s_.services.hypervisor_type(inst.host) not in (None, "fake"):
            # An evacuation rebuilds from the image; the other moves would need the disks copied over.
            raise exceptions.BadRequest(f"Moving servers off {inst.host} is not supported yet: its hypervisor "
                                        "keeps the disks locally and copying them between hosts is not built. "
                                        "Evacuate rebuilds a server from its image on another host.")
        if (inst.flavor.get("extra_specs") or {}).get("hw:cpu_policy") == "dedicated":
            raise exceptions.BadRequest("Moving an instance with pinned CPUs (hw:cpu_policy=dedicated) is not "
                                        "supported yet.")
        # Before the task state: a refused move leaves the server as it was.
        for method in ("schedule_move", "execute_move"):
            s_.conductor.check_can_send(method)
        s_.agents.check_can_send("receive_guest")
        s_._start(ctx, inst, _VERB[kind], {"task_state": _TASK[kind]}, _ALLOWED[kind])
        migration = types.new_uuid()
        with self.db.writer() as s:
            s.add(Migration(uuid=migration, instance_uuid=uuid, project_id=inst.project_id, user_id=inst.user_id,
                            migration_type=kind, status="pre-migrating", source_host=inst.host,
                            source_node=inst.node, flavor=inst.flavor))
        refused = s_.conductor.schedule_move(ctx, migration, target)
        if refused:
            raise exceptions.BadRequest(refused)
        s_.conductor.execute_move(ctx, migration)

    def pending_cold_migration(self, uuid: str) -> str | None:
        """The uuid of the instance's cold migration waiting for confirm or revert, if it has one."""
        with self.db.reader() as s:
            return s.scalar(sa.select(Migration.uuid).where(
                Migration.instance_uuid == uuid, Migration.migration_type == COLD, Migration.status == "finished"))

    def confirm(self, ctx: RequestContext, uuid: str, migration: str) -> None:
        inst, _ = self.servers.get(ctx, uuid)
        running = inst.power_state == states.RUNNING
        self.servers.conductor.check_can_send("confirm_move")
        self.servers._start(ctx, inst, "confirmResize", {"vm_state": states.ACTIVE if running else states.STOPPED},
                            (states.RESIZED,))
        with self.db.writer() as s:  # so a second confirm finds nothing pending
            s.execute(sa.update(Migration).where(Migration.uuid == migration).values(status="confirming"))
        self.servers.instances.finish_action(uuid, ctx.request_id, None)
        self.servers.conductor.confirm_move(ctx, migration)

    def revert(self, ctx: RequestContext, uuid: str, migration: str) -> None:
        inst, _ = self.servers.get(ctx, uuid)
        self.servers.conductor.check_can_send("revert_move")
        self.servers._start(ctx, inst, "revertResize", {"task_state": states.RESIZE_REVERTING}, (states.RESIZED,))
        self.servers.conductor.revert_move(ctx, migration)

    def list(self, params: dict[str, str], instance_uuid: str | None = None) -> list[dict[str, Any]]:
        q = sa.select(Migration).order_by(Migration.created_at.desc(), Migration.id.desc())
        if instance_uuid:
            q = q.where(Migration.instance_uuid == instance_uuid, Migration.migration_type == LIVE,
                        Migration.status.in_(_IN_PROGRESS))
        for name, column in (("instance_uuid", Migration.instance_uuid), ("status", Migration.status),
                             ("migration_type", Migration.migration_type), ("source_compute", Migration.source_host),
                             ("project_id", Migration.project_id), ("user_id", Migration.user_id)):
            if params.get(name):
                q = q.where(column == params[name])
        if params.get("host"):
            q = q.where(sa.or_(Migration.source_host == params["host"], Migration.dest_host == params["host"]))
        with self.db.reader() as s:
            return [_view(m) for m in s.scalars(q)]


def _view(m: Migration) -> dict[str, Any]:
    flavor_id = (m.flavor or {}).get("id")
    return {"id": m.id, "uuid": m.uuid, "instance_uuid": m.instance_uuid, "migration_type": m.migration_type,
            "status": m.status, "source_compute": m.source_host, "source_node": m.source_node,
            "dest_compute": m.dest_host, "dest_node": m.dest_node, "dest_host": None,
            "old_instance_type_id": flavor_id, "new_instance_type_id": flavor_id,
            "project_id": m.project_id, "user_id": m.user_id,
            "created_at": m.created_at.isoformat(), "updated_at": (m.updated_at or m.created_at).isoformat()}
