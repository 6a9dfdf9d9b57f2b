"""Ending the conductor's work that a stopped conductor left half done.

An instance waiting for a host (``scheduling``, or ``unshelving`` with no host
yet) is the conductor's: no agent will ever look at it. So is one the API was
deleting locally (``deleting`` with no host) when it stopped. When the conductor that
took it dies, its message is gone (RabbitMQ acknowledges an RPC message when it
is received, the in-process transport dies with the process), so nothing would
ever move it on. Such an instance ends the way a failed scheduling ends: what
the scheduler may have claimed for it is released, and it rests in ERROR (a
boot) or where it was (an unshelve) with a fault saying it was interrupted.
A conductor takes an instance by touching it (``updated_at``) before it
schedules it, so "untouched since" tells abandoned work from work under way.

Resizes and moves are the conductor's too, from the claim to the last step. A
resize interrupted before its agent got it holds the new flavor in placement
while the instance keeps the old one: the claim goes back to the recorded
flavor. An interrupted move (a migration still ``pre-migrating`` or
``migrating``) is undone as a failed move is: the source's resources go back
from the migration to the instance (freeing the destination's), a guest started
on the destination is removed, a cold-migrated guest is started again, and the
migration ends in ``error``. Either way the instance keeps its host and state,
its task ends, and a fault says what was interrupted.

Which work is abandoned: with the in-process transport the conductor is the
only one and everything recorded before it started is. With a broker other
conductors may be working on some right now, so only what is untouched for
longer than the work can take is (scheduling: the scheduler's answer within
``[compute] rpc_timeout``, twice over; a move: its three agent calls, four
times over); a later sweep takes the rest. A late message for an
instance ended here finds it no longer in ``scheduling`` and releases what it
claimed (``ConductorManager.build_instances``).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa

from nubis.common import context, periodic, rpc
from nubis.common.clients.placement import PlacementClient
from nubis.common.db import dml, types
from nubis.common.db.engine import Database
from nubis.compute import notifications, states
from nubis.compute.agent.rpcapi import ComputeAgentAPI
from nubis.compute.conductor import allocations
from nubis.compute.conductor.moves import COLD, DONE, LIVE
from nubis.compute.core.instances import ActionEnd, Fault, InstanceStore
from nubis.compute.db.models import ComputeNode, Instance, Migration
from nubis.scheduler.rpcapi import SchedulerAPI

LOG = logging.getLogger(__name__)

# task_state with no host yet -> (the vm_state the instance rests in once the work is abandoned, what the work
# was, who was doing it). A local delete (the API's, for a server no host holds) marks it ``deleting`` first;
# an API that died before it ended leaves it so, and the user sends the delete again.
_WAITING_FOR_A_HOST = {
    states.SCHEDULING: (states.ERROR, "boot", "the conductor scheduling it"),
    states.UNSHELVING: (states.SHELVED_OFFLOADED, "unshelve", "the conductor scheduling it"),
    states.DELETING: (states.ERROR, "delete", "the API deleting it"),
}
# Tasks of a resize or move on the conductor's side (before the agent's step, or with no migration row yet).
_CLAIMING = (states.RESIZE_PREP, states.MIGRATING)
_MOVING = ("pre-migrating", "migrating")


def interrupted_fault(uuid: str, what: str, where: str) -> Fault:
    """The fault of an instance whose ``what`` stopped half way because ``where`` stopped."""
    return Fault(500, f"The {what} of instance {uuid} was interrupted: {where} stopped while working on it. "
                      "Delete the server, or try again.", "Interrupted")


class ConductorRecovery:
    def __init__(self, db: Database, instances: InstanceStore, scheduler: SchedulerAPI, notifier: rpc.Notifier,
                 placement: PlacementClient, agents: ComputeAgentAPI) -> None:
        self.db = db
        self.instances = instances
        self.scheduler = scheduler
        self.notifier = notifier
        self.placement = placement
        self.agents = agents

    def abandoned(self, older_than: datetime.datetime) -> list[tuple[str, str]]:
        """(uuid, task_state) of instances waiting for a host and unchanged since ``older_than``."""
        with self.db.reader() as s:
            rows = s.execute(sa.select(Instance.uuid, Instance.task_state).where(
                Instance.deleted.is_(False), Instance.host.is_(None),
                Instance.task_state.in_(list(_WAITING_FOR_A_HOST)), Instance.updated_at < older_than))
            return [(r.uuid, r.task_state) for r in rows]

    def run(self, older_than: datetime.datetime, moves_older_than: datetime.datetime | None = None) -> int:
        """End every abandoned piece of work; how many were."""
        ended = 0
        for uuid, task in self.abandoned(older_than):
            ended += self._quietly(self._end, uuid, task, older_than)
        for uuid, task, host, flavor in self._abandoned_claims(older_than):
            ended += self._quietly(self._end_claim, uuid, task, host, flavor, older_than)
        for m in self._abandoned_moves(moves_older_than or older_than):
            ended += self._quietly(self._end_move, m)
        return ended

    @staticmethod
    def _quietly(step: Any, uuid: Any, *args: Any) -> bool:
        try:
            return bool(step(uuid, *args))
        except Exception:  # noqa: BLE001 - the next sweep tries again; the others need not wait
            LOG.exception("could not end interrupted work (%s)", uuid)
            return False

    def _end(self, uuid: str, task: str, older_than: datetime.datetime) -> bool:
        ctx = context.admin_context()
        vm_state, what, where = _WAITING_FOR_A_HOST[task]
        # Only if still untouched: a conductor taking it meanwhile (a late message) owns it, and then what it
        # claims must stay; one taking it after this finds it no longer waiting and claims nothing.
        if not self.instances.update(uuid, {"vm_state": vm_state, "task_state": None},
                                     expected_task_state=[task], unchanged_since=older_than,
                                     fault=interrupted_fault(uuid, what, where),
                                     action=ActionEnd(None, "Error")):
            return False
        # What the dead conductor's scheduler call may have claimed goes back (a failure here leaves it to the
        # server's delete, which releases again).
        self.scheduler.release(ctx, uuid)
        LOG.warning("the %s of instance %s was interrupted; it is now %s", what, uuid, vm_state)
        if task == states.SCHEDULING:
            notifications.emit(self.notifier, ctx, "instance.create.error", uuid, None, state=states.ERROR,
                               fault="interrupted")
        return True


    # -- resizes and moves --------------------------------------------------------------------------------

    def _abandoned_claims(self, older_than: datetime.datetime) -> list[tuple[str, str, str, dict[str, Any]]]:
        """Instances in a resize or move the conductor had not handed on, with no migration under way."""
        moving = sa.select(Migration.instance_uuid).where(Migration.status.in_(_MOVING))
        with self.db.reader() as s:
            rows = s.execute(sa.select(Instance.uuid, Instance.task_state, Instance.host, Instance.flavor).where(
                Instance.deleted.is_(False), Instance.host.is_not(None), Instance.task_state.in_(_CLAIMING),
                Instance.updated_at < older_than, Instance.uuid.not_in(moving)))
            return [(r.uuid, r.task_state, r.host, r.flavor) for r in rows]

    def _provider(self, host: str) -> str | None:
        with self.db.reader() as s:
            return s.scalar(sa.select(ComputeNode.uuid).where(ComputeNode.host == host))

    def _end_claim(self, uuid: str, task: str, host: str, flavor: dict[str, Any],
                   older_than: datetime.datetime) -> bool:
        provider = self._provider(host)
        # A resize may have claimed the new flavor already: the instance holds its recorded one again.
        if provider is not None and not self.placement.reallocate(uuid, provider,
                                                               allocations.flavor_resources(flavor)):
            LOG.warning("host %s has no room for the recorded flavor of %s any more", host, uuid)
        what = "resize" if task == states.RESIZE_PREP else "migration"
        return self.instances.update(uuid, {"task_state": None}, expected_task_state=[task],
                                     unchanged_since=older_than, fault=interrupted_fault(uuid, what, "the conductor"),
                                     action=ActionEnd(None, "Error"))

    def _abandoned_moves(self, older_than: datetime.datetime) -> list[Migration]:
        with self.db.reader() as s:
            rows = list(s.scalars(sa.select(Migration).where(
                Migration.status.in_(_MOVING), sa.func.coalesce(Migration.updated_at, Migration.created_at)
                < older_than)))
            s.expunge_all()
            return rows

    def _end_move(self, m: Migration) -> bool:
        ctx = context.admin_context()
        with self.db.reader() as s:
            inst = s.get(Instance, m.instance_uuid)
            host, vm_state = (inst.host, inst.vm_state) if inst is not None else (None, None)
        # The instance's host changes last but for its record: if it is on the destination, the move is done.
        done = host is not None and host == m.dest_host
        with self.db.writer() as s:  # take the ending: a second sweep (or conductor) finds it taken
            if not dml.rowcount(s.execute(
                    sa.update(Migration).where(Migration.uuid == m.uuid, Migration.status == m.status)
                    .values(status=DONE[m.migration_type] if done else "error", updated_at=types.utcnow()))):
                return False
        if done:
            if m.migration_type != COLD:  # a cold migration keeps the source's resources until confirmed
                self.placement.release(m.uuid)
            return True
        if m.dest_host:
            ConductorRecovery._quietly(self.agents.drop_guest, ctx, m.dest_host, m.instance_uuid)
        if m.migration_type == COLD and vm_state == states.ACTIVE:
            ConductorRecovery._quietly(self.agents.start_guest, ctx, m.source_host, m.instance_uuid)
        self.placement.hand_over(m.uuid, m.instance_uuid, "INSTANCE")
        what = {COLD: "migration", LIVE: "live migration"}.get(m.migration_type, m.migration_type)
        LOG.warning("the %s of %s was interrupted; undone", what, m.instance_uuid)
        return self.instances.update(m.instance_uuid, {"task_state": None}, fault=interrupted_fault(
            m.instance_uuid, what, "the conductor"), action=ActionEnd(None, "Error"))


class Sweeper:
    """Runs the recovery at start and, where other conductors may exist, again every ``interval`` seconds."""

    def __init__(self, recovery: ConductorRecovery, in_process: bool, started: datetime.datetime,
                 interval: float) -> None:
        self.recovery = recovery
        self.in_process = in_process
        self.started = started
        self.interval = interval
        self._periodic = periodic.PeriodicTasks("conductor-recovery")
        self._swept = False

    def cutoff(self, rounds: int = 2) -> datetime.datetime:
        """Work last changed before this is nobody's any more (see the module's docstring)."""
        if self.in_process:  # this process is the only conductor, and the transport died with the last one
            return self.started
        return types.utcnow() - datetime.timedelta(seconds=rounds * self.interval)

    def start(self) -> Sweeper:
        self._periodic.add("conductor-recovery", self.interval, self.sweep, run_immediately=True).start()
        return self

    def sweep(self) -> None:
        """One sweep (an error, e.g. the database not reachable yet, is logged and the next sweep tries again).

        In-process there is one sweep only: no other conductor leaves work behind while this process runs.
        """
        if self._swept and self.in_process:
            raise periodic.NeverAgain()
        self._swept = True
        self.recovery.run(self.cutoff(), self.cutoff(rounds=4))

    def stop(self) -> None:
        self._periodic.stop(timeout=10)
