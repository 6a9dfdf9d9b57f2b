"""What a compute agent does at start with the work it was doing when it stopped.

The facts come from nova's ``ComputeManager._init_instance``: an instance of
this host still in a task when its agent starts was being worked on by the
agent that stopped, and nobody else will finish it. Each one is resumed where
that is safe, or ended cleanly:

* a delete (``deleting``) is done again, whole (every step can be repeated);
* a build (``building``, or an unshelve placed here) whose guest is running
  resumes: its ports are bound again, waited for, and it becomes ACTIVE; one
  without a running guest is undone (guest, ports, claim) and rests in ERROR
  with a fault saying it was interrupted. A build that was never started here
  (its message lost) ends the same way: nova does that too, for instances
  whose build request a stopped compute service never read;
* a power action, rebuild, resize step or snapshot ends with the state the
  guest is in (ERROR when there is no guest), and a fault saying it was
  interrupted; the action ends as failed.

Moves (``resize_prep``, ``migrating``) belong to the conductor that drives
them and are not touched here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from nubis.common import context, rpc
from nubis.common.context import RequestContext
from nubis.compute import states
from nubis.compute.agent import events
from nubis.compute.agent.events import InstanceEvents, Waiter
from nubis.compute.conductor.rpcapi import ConductorAPI
from nubis.compute.core.instances import MAX_DELETED_LOOKUP, ActionEnd, Fault
from nubis.compute.networking import Networking
from nubis.compute.virt.driver import ComputeDriver

LOG = logging.getLogger(__name__)

VM_STATE_OF_POWER = {states.RUNNING: states.ACTIVE, states.SHUTDOWN: states.STOPPED,
                     states.POWER_PAUSED: states.PAUSED, states.POWER_SUSPENDED: states.SUSPENDED}
# Tasks the agent carries out itself (and so must end if it stopped in the middle of one).
_ENDED_BY_GUEST_STATE = {states.POWERING_OFF, states.POWERING_ON, states.REBOOTING, states.REBOOTING_HARD,
                         states.PAUSING, states.UNPAUSING, states.SUSPENDING, states.RESUMING, states.REBUILDING,
                         states.RESIZE_MIGRATING, states.RESIZE_REVERTING, states.IMAGE_SNAPSHOT,
                         states.IMAGE_BACKUP, states.SHELVING, states.RESCUING, states.UNRESCUING}


class ComputeAgent(Protocol):
    """What the recovery uses of the agent (``agent.manager.ComputeAgent``)."""

    host: str
    driver: ComputeDriver
    conductor: ConductorAPI
    network: Networking | None
    events: InstanceEvents

    @property
    def stopping(self) -> bool: ...

    def instance_lock(self, uuid: str) -> AbstractContextManager[None]: ...

    def unplug_networks(self, uuid: str) -> None: ...

    def wait_for_vifs(self, uuid: str, vifs: list[dict[str, Any]], plugged: Waiter) -> None: ...

    def finish_build(self, ctx: RequestContext, uuid: str, vifs: list[dict[str, Any]],
                     request_id: str | None) -> bool: ...

    def fail_build(self, ctx: RequestContext, uuid: str, fault: Fault, request_id: str | None) -> None: ...


def interrupted(uuid: str, what: str, host: str, why: str = "") -> Fault:
    return Fault(500, f"The {what} of instance {uuid} was interrupted: the compute service of host {host} stopped "
                      f"while working on it.{why}", "Interrupted")


def recover(agent: ComputeAgent) -> None:
    """Remove guests that are not this host's, then resume or end each interrupted instance (in a thread:
    the agent serves meanwhile, and the per-instance lock keeps new requests for these in line)."""
    ctx = context.admin_context()
    recorded = agent.conductor.host_instances(ctx, agent.host)
    ours = {inst["uuid"] for inst in recorded}
    for uuid in agent.driver.list_guests():
        if uuid not in ours:  # evacuated or deleted while this host was down: it runs elsewhere or nowhere
            LOG.warning("guest %s is no longer this host's instance; removing it", uuid)
            agent.driver.destroy(uuid)
    pending = [inst for inst in recorded if not inst["kept_for_revert"] and _is_interrupted(inst)]
    threading.Thread(target=_recover_all, args=(agent, pending, ours), name=f"compute-recover-{agent.host}",
                     daemon=True).start()


def _is_interrupted(inst: dict[str, Any]) -> bool:
    return (inst["vm_state"] == states.BUILDING or inst["task_state"] in (states.DELETING, states.SPAWNING,
                                                                         states.UNSHELVING)
            or inst["task_state"] in _ENDED_BY_GUEST_STATE)


def deleted_among(agent: ComputeAgent, find: Callable[[], Iterable[str]]) -> dict[str, str]:
    """Of the instance uuids ``find()`` names (the first ``MAX_DELETED_LOOKUP``), those the conductor records
    as deleted: uuid -> project id. ``{}``, without calling ``find``, when the conductor is older than 1.5."""
    if not agent.conductor.can_send_version("1.5"):
        return {}
    candidates = sorted(set(find()))[:MAX_DELETED_LOOKUP]
    return agent.conductor.deleted_instances(context.admin_context(), candidates) if candidates else {}


def release_orphan_ports(agent: ComputeAgent, ours: set[str]) -> list[str]:
    """Release the ports of instances deleted while this agent was down; returns those instances.

    A delete that found no host yet (the API's local delete) races with a build already sent to this
    host: the build gives back the ports it made once it sees the delete, unless the agent dies first.
    Such ports are bound to this host, or to none if the agent died before binding them. Only instances
    the conductor records as deleted count, and only ports of their own project are released.
    """
    network = agent.network
    if network is None or not network.available():
        return []
    deleted = deleted_among(agent, lambda: {p["device_id"] for p in network.host_ports(agent.host)} - ours)
    for uuid, project_id in sorted(deleted.items()):
        LOG.warning("instance %s was deleted while this agent was down; releasing its ports", uuid)
        network.deallocate(uuid, project_id)
    return sorted(deleted)


def _recover_all(agent: ComputeAgent, pending: list[dict[str, Any]], ours: set[str]) -> None:
    context.start_task()
    try:
        release_orphan_ports(agent, ours)
    except Exception:  # noqa: BLE001 - the next start tries again; interrupted instances need not wait
        LOG.exception("could not release the ports of instances deleted while this agent was down")
    for inst in pending:
        if agent.stopping:
            return
        context.start_task()  # each instance's recovery is logged under an id of its own
        try:
            with agent.instance_lock(inst["uuid"]):
                _recover_one(agent, inst)
        except Exception:  # noqa: BLE001 - the others need not wait; this one stays as it was for an admin
            LOG.exception("could not recover instance %s", inst["uuid"])


def _recover_one(agent: ComputeAgent, inst: dict[str, Any]) -> None:
    ctx = context.admin_context()
    uuid, task = inst["uuid"], inst["task_state"]
    if task == states.DELETING:
        LOG.info("completing the interrupted delete of %s", uuid)
        agent.driver.destroy(uuid)
        agent.unplug_networks(uuid)
        agent.conductor.instance_deleted(ctx, uuid)
        return
    power = agent.driver.power_state(uuid)
    if inst["vm_state"] == states.BUILDING or task in (states.SPAWNING, states.UNSHELVING):
        _recover_build(agent, inst, power)
        return
    vm_state = VM_STATE_OF_POWER.get(power, states.ERROR)
    LOG.warning("instance %s was %s when the agent stopped; it is now %s", uuid, task, vm_state)
    agent.conductor.instance_update(ctx, uuid, {"vm_state": vm_state, "task_state": None, "power_state": power},
                                    expected_task_state=task, fault=interrupted(uuid, task.replace("_", " "),
                                                                                agent.host),
                                    action=ActionEnd(None, "Error"))


def _recover_build(agent: ComputeAgent, inst: dict[str, Any], power: int) -> None:
    ctx = context.admin_context()
    uuid = inst["uuid"]
    why = ""
    if power == states.RUNNING and inst["task_state"] == states.SPAWNING:
        LOG.info("resuming the build of %s: its guest runs", uuid)
        try:
            # Expecting network-vif-plugged before binding again, as a build does.
            with agent.events.expect(uuid, events.VIF_PLUGGED) as plugged:
                vifs = agent.network.bind(uuid, agent.host) \
                    if agent.network is not None and agent.network.available() else []
                agent.wait_for_vifs(uuid, vifs, plugged)
        except Exception as exc:  # noqa: BLE001 - Stopping included: then the next start tries again
            if agent.stopping:
                return
            LOG.warning("resuming the build of %s failed: %s", uuid, exc)
            why = f" Resuming it failed: {rpc.error_message(exc)}"
        else:
            agent.finish_build(ctx, uuid, vifs, None)
            return
    LOG.warning("the build of %s was interrupted; undoing it", uuid)
    agent.fail_build(ctx, uuid, interrupted(uuid, "build", agent.host, why), None)
