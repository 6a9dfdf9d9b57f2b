"""Moving instances between hosts: cold migration (with confirm/revert), live migration, evacuation.

The source host's resources stay allocated in placement to the migration's
uuid while the instance's uuid claims the destination, so a move never
overcommits either host and a revert can always go back. Every step that can
fail is undone in reverse order, and the instance ends with a fault that says
which step failed.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions, rpc
from nubis.common.clients.placement import PlacementClient
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.compute import notifications, states
from nubis.compute.agent.rpcapi import ComputeAgentAPI
from nubis.compute.core.instances import ActionEnd, Fault, InstanceStore
from nubis.compute.core.server_groups import ServerGroupStore
from nubis.compute.db.models import Migration
from nubis.scheduler.exceptions import NoValidHost
from nubis.scheduler.request_spec import RequestSpec
from nubis.scheduler.rpcapi import SchedulerAPI

LOG = logging.getLogger(__name__)

COLD, LIVE, EVACUATION = "migration", "live-migration", "evacuation"
# The status a finished move rests in, as nova reports them.
DONE = {COLD: "finished", LIVE: "completed", EVACUATION: "done"}


def instance_spec(db: Database, instances: InstanceStore, instance_uuid: str, ignore_hosts: list[str] | None = None,
                  force_host: str | None = None, zone: str | None = None) -> RequestSpec:
    """What the scheduler needs to place an existing instance again (a move, an unshelve)."""
    with db.reader() as s:
        inst = instances.get_row(s, instance_uuid)
        group = ServerGroupStore.scheduler_view(s, instance_uuid)
        f = inst.flavor
        body = {"flavor": {"name": f["name"], "vcpus": f["vcpus"], "memory_mb": f["memory_mb"],
                           "root_gb": f["root_gb"], "ephemeral_gb": f.get("ephemeral_gb", 0),
                           "swap_mb": f.get("swap", 0), "extra_specs": f.get("extra_specs") or {}},
                "instance_uuids": [instance_uuid], "project_id": inst.project_id, "user_id": inst.user_id,
                # An instance stays in its zone: it was booted there, or where its first host was.
                "availability_zone": zone or inst.availability_zone, "force_host": force_host,
                "ignore_hosts": ignore_hosts or [], "server_group": group}
    return RequestSpec.from_dict(body)


class Mover:
    def __init__(self, db: Database, instances: InstanceStore, scheduler: SchedulerAPI, agents: ComputeAgentAPI,
                 placement: PlacementClient, notifier: rpc.Notifier) -> None:
        self.db = db
        self.instances = instances
        self.scheduler = scheduler
        self.agents = agents
        self.placement = placement
        self.notifier = notifier

    def _migration(self, uuid: str) -> dict[str, Any]:
        with self.db.reader() as s:
            m = s.scalar(sa.select(Migration).where(Migration.uuid == uuid))
            if m is None:
                raise exceptions.NotFound(f"Migration {uuid} could not be found.")
            return {"uuid": m.uuid, "instance_uuid": m.instance_uuid, "kind": m.migration_type,
                    "source": m.source_host, "source_node": m.source_node, "dest": m.dest_host,
                    "dest_node": m.dest_node, "status": m.status}

    def _set_status(self, migration_uuid: str, status: str, **values: Any) -> None:
        with self.db.writer() as s:
            s.execute(sa.update(Migration).where(Migration.uuid == migration_uuid)
                      .values(status=status, updated_at=types.utcnow(), **values))

    def _spec(self, instance_uuid: str, source: str, target: str | None) -> RequestSpec:
        return instance_spec(self.db, self.instances, instance_uuid, ignore_hosts=[source], force_host=target)

    # -- scheduling (the API waits for this, so "no valid host" is its 400) ----------------------------------

    def schedule(self, ctx: RequestContext, migration_uuid: str, target: str | None) -> str | None:
        """Claim a destination for the move; None when it has one, else why not (the move is then undone)."""
        m = self._migration(migration_uuid)
        uuid = m["instance_uuid"]
        try:
            self.placement.hand_over(uuid, migration_uuid, "MIGRATION")
            chosen = self.scheduler.select_destinations(ctx, self._spec(uuid, m["source"], target),
                                                        return_alternates=False)[0]
        except Exception as exc:  # noqa: BLE001 - NoValidHost and placement trouble both end the move here
            if not isinstance(exc, NoValidHost):
                LOG.exception("scheduling the %s of %s failed", m["kind"], uuid)
            self.placement.hand_over(migration_uuid, uuid, "INSTANCE")
            self._abandon(ctx, m, rpc.error_message(exc))
            return rpc.error_message(exc)
        self._set_status(migration_uuid, "migrating", dest_host=chosen["host"], dest_node=chosen["node"])
        return None

    def _abandon(self, ctx: RequestContext, m: dict[str, Any], reason: str, fault: Fault | None = None) -> None:
        self._set_status(m["uuid"], "error")
        self.instances.update(m["instance_uuid"], {"task_state": None}, fault=fault,
                              action=ActionEnd(ctx.request_id, "Error"))
        LOG.info("%s of %s abandoned: %s", m["kind"], m["instance_uuid"], reason)

    # -- carrying out -------------------------------------------------------------------------------------

    def execute(self, ctx: RequestContext, migration_uuid: str) -> None:
        m = self._migration(migration_uuid)
        uuid, source, dest, kind = m["instance_uuid"], m["source"], m["dest"], m["kind"]
        with self.db.reader() as s:
            vm_state = self.instances.get_row(s, uuid).vm_state
        # An evacuated guest is rebuilt running unless it was stopped; a migrated one keeps its power state.
        running = vm_state != states.STOPPED if kind == EVACUATION else vm_state in (states.ACTIVE, states.PAUSED)
        payload = self.instances.payload(uuid)
        step = "stopping the guest on the source"
        received = False
        try:
            if kind == COLD:
                self.agents.stop_guest(ctx, source, uuid)
            step = f"creating the guest on {dest}"
            power = self.agents.receive_guest(ctx, dest, payload, running)
            received = True
            if kind == LIVE:
                step = f"removing the guest from {source}"
                self.agents.drop_guest(ctx, source, uuid)
        except Exception as exc:  # noqa: BLE001 - undo, then the fault says which step failed
            LOG.warning("%s of %s failed while %s: %s", kind, uuid, step, exc)
            self._undo(ctx, m, received, running, Fault(500, f"The {kind} of instance {uuid} from {source} to {dest} "
                                                             f"failed while {step}: {rpc.error_message(exc)}",
                                                        type(exc).__name__))
            return
        if kind != COLD:  # nothing to go back to: the source's resources are free at once
            self.placement.release(migration_uuid)
        end_state = {COLD: states.RESIZED, LIVE: vm_state}.get(kind, states.ACTIVE if running else states.STOPPED)
        self.instances.update(uuid, {"host": dest, "node": m["dest_node"] or dest, "vm_state": end_state,
                                     "task_state": None, "power_state": power}, action=ActionEnd(ctx.request_id))
        self._set_status(migration_uuid, DONE[kind])
        notifications.emit(self.notifier, ctx, f"instance.{kind.replace('-', '_')}.end", uuid, dest,
                           state=end_state, source_host=source)

    def _undo(self, ctx: RequestContext, m: dict[str, Any], received: bool, running: bool, fault: Fault) -> None:
        uuid = m["instance_uuid"]
        if received:
            self._quietly(self.agents.drop_guest, ctx, m["dest"], uuid)
        if m["kind"] == COLD and running:
            self._quietly(self.agents.start_guest, ctx, m["source"], uuid)
        self._quietly(self.placement.hand_over, m["uuid"], uuid, "INSTANCE")
        self._abandon(ctx, m, "failed", fault)

    @staticmethod
    def _quietly(step: Any, *args: Any) -> None:
        try:
            step(*args)
        except Exception:  # noqa: BLE001 - undoing is best effort; the original failure is what gets reported
            LOG.exception("undoing a step of a failed move")

    # -- ending a cold migration ------------------------------------------------------------------------------

    def confirm(self, ctx: RequestContext, migration_uuid: str) -> None:
        m = self._migration(migration_uuid)
        self._quietly(self.agents.drop_guest, ctx, m["source"], m["instance_uuid"])
        self.placement.release(migration_uuid)
        self._set_status(migration_uuid, "confirmed")

    def revert(self, ctx: RequestContext, migration_uuid: str) -> None:
        m = self._migration(migration_uuid)
        uuid = m["instance_uuid"]
        with self.db.reader() as s:
            inst = self.instances.get_row(s, uuid)
            running = inst.power_state == states.RUNNING
        try:
            self.agents.drop_guest(ctx, m["dest"], uuid)
            power = self.agents.start_guest(ctx, m["source"], uuid) if running else states.SHUTDOWN
            self.placement.hand_over(migration_uuid, uuid, "INSTANCE")
        except Exception as exc:  # noqa: BLE001 - the fault says why; the instance stays for an admin to look at
            LOG.exception("reverting the migration of %s failed", uuid)
            self._set_status(migration_uuid, "error")
            self.instances.update(uuid, {"vm_state": states.ERROR, "task_state": None}, fault=Fault(
                500, f"Reverting the migration of {uuid} failed: {rpc.error_message(exc)}", type(exc).__name__),
                action=ActionEnd(ctx.request_id, "Error"))
            return
        self.instances.update(uuid, {"host": m["source"], "node": m["source_node"] or m["source"], "task_state": None,
                                     "vm_state": states.ACTIVE if running else states.STOPPED, "power_state": power},
                              action=ActionEnd(ctx.request_id))
        self._set_status(migration_uuid, "reverted")
