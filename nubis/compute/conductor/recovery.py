"""Ending the conductor's work that a stopped conductor left half done.

An instance waiting for a host (``scheduling``, or ``unshelving`` with no host
yet) is the conductor's: no agent will ever look at it. When the conductor that
took it dies, its message is gone (RabbitMQ acknowledges an RPC message when it
is received, the in-process transport dies with the process), so nothing would
ever move it on. Such an instance ends the way a failed scheduling ends: what
the scheduler may have claimed for it is released, and it rests in ERROR (a
boot) or where it was (an unshelve) with a fault saying it was interrupted.
A conductor takes an instance by touching it (``updated_at``) before it
schedules it, so "untouched since" tells abandoned work from work under way.

Which instances are abandoned: with the in-process transport the conductor is
the only one and everything recorded before it started is. With a broker other
conductors may be working on some right now, so only instances untouched for
longer than a scheduling can take (``[compute] rpc_timeout`` for the scheduler's
answer, twice over) are; a later sweep takes the rest. A late message for an
instance ended here finds it no longer in ``scheduling`` and releases what it
claimed (``ConductorManager.build_instances``).
"""

from __future__ import annotations

import datetime
import logging
import threading

import sqlalchemy as sa

from nubis.common import context, rpc
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.compute import notifications, states
from nubis.compute.core.instances import ActionEnd, Fault, InstanceStore
from nubis.compute.db.models import Instance
from nubis.scheduler.rpcapi import SchedulerAPI

LOG = logging.getLogger(__name__)

# task_state with no host yet -> the vm_state the instance rests in once the work is abandoned.
_WAITING_FOR_A_HOST = {states.SCHEDULING: states.ERROR, states.UNSHELVING: states.SHELVED_OFFLOADED}


def interrupted_fault(uuid: str, what: str, where: str) -> Fault:
    """The fault of an instance whose ``what`` stopped half way because ``where`` stopped."""
    return Fault(500, f"The {what} of instance {uuid} was interrupted: {where} stopped while working on it. "
                      "Delete the server, or try again.", "Interrupted")


class ConductorRecovery:
    def __init__(self, db: Database, instances: InstanceStore, scheduler: SchedulerAPI,
                 notifier: rpc.Notifier) -> None:
        self.db = db
        self.instances = instances
        self.scheduler = scheduler
        self.notifier = notifier

    def abandoned(self, older_than: datetime.datetime) -> list[tuple[str, str]]:
        """(uuid, task_state) of instances waiting for a host and unchanged since ``older_than``."""
        with self.db.reader() as s:
            rows = s.execute(sa.select(Instance.uuid, Instance.task_state).where(
                Instance.deleted.is_(False), Instance.host.is_(None),
                Instance.task_state.in_(list(_WAITING_FOR_A_HOST)), Instance.updated_at < older_than))
            return [(r.uuid, r.task_state) for r in rows]

    def run(self, older_than: datetime.datetime) -> int:
        """End every abandoned instance; how many were."""
        ended = 0
        for uuid, task in self.abandoned(older_than):
            try:
                ended += self._end(uuid, task, older_than)
            except Exception:  # noqa: BLE001 - the next sweep tries again; the others need not wait
                LOG.exception("could not end the interrupted %s of %s", task, uuid)
        return ended

    def _end(self, uuid: str, task: str, older_than: datetime.datetime) -> bool:
        ctx = context.admin_context()
        what = "boot" if task == states.SCHEDULING else "unshelve"
        vm_state = _WAITING_FOR_A_HOST[task]
        # Only if still untouched: a conductor taking it meanwhile (a late message) owns it, and then what it
        # claims must stay; one taking it after this finds it no longer waiting and claims nothing.
        if not self.instances.update(uuid, {"vm_state": vm_state, "task_state": None},
                                     expected_task_state=[task], unchanged_since=older_than,
                                     fault=interrupted_fault(uuid, what, "the conductor scheduling it"),
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


class Sweeper:
    """Runs the recovery at start and, where other conductors may exist, again every ``interval`` seconds."""

    def __init__(self, recovery: ConductorRecovery, in_process: bool, started: datetime.datetime,
                 interval: float) -> None:
        self.recovery = recovery
        self.in_process = in_process
        self.started = started
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="conductor-recovery", daemon=True)

    def cutoff(self) -> datetime.datetime:
        """Instances last changed before this are nobody's any more (see the module's docstring)."""
        if self.in_process:  # this process is the only conductor, and the transport died with the last one
            return self.started
        return types.utcnow() - datetime.timedelta(seconds=2 * self.interval)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            try:
                self.recovery.run(self.cutoff())
            except Exception:  # noqa: BLE001 - e.g. the database is not reachable yet; try again later
                LOG.exception("recovering interrupted work failed")
            if self.in_process or self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
