"""The per-host compute agent: carries out builds and actions with its driver, reports through the conductor."""

from __future__ import annotations

import collections
import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import tenacity
from oslo_config import cfg

from nubis.common import context as nubis_context
from nubis.common import exceptions, rpc
from nubis.common.clients.image import ImageClient
from nubis.common.clients.placement import PlacementClient
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.periodic import PeriodicTasks
from nubis.common.retrying import log_retry
from nubis.compute import notifications, service_versions, states
from nubis.compute.actions import POWER_ACTIONS
from nubis.compute.agent import events, recovery, resources
from nubis.compute.conductor.rpcapi import ConductorAPI
from nubis.compute.core.instances import ActionEnd, Fault
from nubis.compute.networking import Networking
from nubis.compute.virt.driver import ComputeDriver, DriverError, GuestSpec, PasswordNotSupported
from nubis.scheduler.rpcapi import SchedulerAPI

LOG = logging.getLogger(__name__)
BINARY = "nubis-compute"
# Registering at start waits out a placement, conductor or scheduler that cannot answer yet: 1 s, 2 s, ...
# at most 30 s between attempts, until one succeeds or the agent is told to stop.
REGISTER_WAIT = tenacity.wait_exponential(multiplier=1, max=30)


class Stopping(Exception):
    """The agent is stopping: the work in hand is left as recorded, for the next start to take up."""


def failure(exc: BaseException, message: str) -> Fault:
    """The fault of an operation that failed with ``exc``: ``message``, what went wrong, and its kind."""
    return Fault(500, f"{message}: {rpc.error_message(exc)}", type(exc).__name__)


class ComputeAgent:
    def __init__(self, conf: cfg.ConfigOpts, driver: ComputeDriver, conductor: ConductorAPI,
                 scheduler: SchedulerAPI, placement: PlacementClient, notifier: rpc.Notifier,
                 images: ImageClient | None = None, network: Networking | None = None) -> None:
        self.conf = conf
        self.host = conf.host
        self.driver = driver
        self.conductor = conductor
        self.scheduler = scheduler
        self.placement = placement
        self.notifier = notifier
        self.images = images
        self.network = network
        self.events = events.InstanceEvents()
        self._locks: collections.defaultdict[str, threading.Lock] = collections.defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._stop = threading.Event()
        self._power_changes: queue.Queue[str] = queue.Queue()
        self._periodic = PeriodicTasks(f"compute-periodic-{self.host}")

    # -- life cycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Register with placement, the scheduler and os-services, put interrupted work right, keep reporting.

        Registration is tried until it succeeds (a placement write that failed, a conductor not up yet): an
        agent that exited instead would leave the builds it was doing in BUILD until someone restarts it.
        Raises the last registration error only when the agent is stopped while still trying.
        """
        self._register()
        self.recover()
        # Nova's periodic tasks of a compute host; each failed run is logged and tried again next time.
        self._periodic.add("compute-report", self.conf.compute.report_interval, self.periodic_report)
        self._periodic.add("compute-sync-power-states", self.conf.compute.sync_power_state_interval,
                           self.sync_power_states)
        self._periodic.add("compute-orphan-allocations", self.conf.compute.orphan_allocations_interval,
                           self.release_deleted_allocations)
        self._periodic.add("compute-image-cache", self.conf.image_cache.manager_interval, self.driver.manage_image_cache)
        self._periodic.start()
        threading.Thread(target=self._power_change_loop, name=f"compute-power-{self.host}", daemon=True).start()
        self.driver.watch_power(lambda uuid, _state: self._power_changes.put(uuid))

    def _register(self) -> None:
        registering = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Exception),
            stop=lambda _state: self._stop.is_set(),
            wait=REGISTER_WAIT,
            sleep=self._pause,
            before_sleep=log_retry(LOG, f"registering compute host {self.host}", logging.WARNING),
            reraise=True,
        )
        registering(self.report)

    def _pause(self, seconds: float) -> None:
        """Sleep between registration attempts; cut short when the agent is told to stop."""
        self._stop.wait(seconds)

    def _power_change_loop(self) -> None:
        """Check guests the driver says changed power state on their own, one at a time, off its threads."""
        while not self._stop.is_set():
            try:
                uuid = self._power_changes.get(timeout=1)
            except queue.Empty:
                continue
            nubis_context.start_task()  # each check is logged under an id of its own
            try:
                self.sync_power_state(uuid)
            except Exception:  # noqa: BLE001 - the periodic sync catches up later
                LOG.exception("checking the power state of %s failed", uuid)

    def stop(self) -> None:
        """Stop reporting, and make work that waits on others (ports being wired) give up waiting, so the
        RPC server's drain ends in bounded time; such work is picked up again at the next start."""
        self._stop.set()
        self._periodic.stop(timeout=10)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def report(self) -> None:
        ctx = nubis_context.admin_context()
        res = self.driver.host_resources()
        rp_uuid = self.placement.ensure_provider(resources.provider_uuid(self.host), self.host,
                                                 resources.inventories(self.conf, res))
        self.scheduler.update_host(ctx, resources.scheduler_report(self.conf, self.host, rp_uuid, res))
        self.conductor.compute_node_update(ctx, resources.node_record(self.host, rp_uuid, res))
        self.conductor.service_heartbeat(ctx, self.host, BINARY, service_versions.reported(BINARY))

    def periodic_report(self) -> None:
        """The heartbeat (os-services) and the host's current resources to the scheduler."""
        ctx = nubis_context.admin_context()
        self.conductor.service_heartbeat(ctx, self.host, BINARY, service_versions.reported(BINARY))
        res = self.driver.host_resources()
        self.scheduler.update_host(ctx, resources.scheduler_report(
            self.conf, self.host, resources.provider_uuid(self.host), res))

    def release_deleted_allocations(self) -> list[str]:
        """Release this host's allocations held for instances recorded as deleted; returns those instances.

        A claim can land after its server's delete (the delete found nothing to release yet and the
        conductor's own release failed or came first); nothing else would ever give it back. Migrations hold
        allocations as consumers too, but are no instances: the conductor only names deleted instances.
        """
        ctx = nubis_context.admin_context()

        def not_live() -> set[str]:
            consumers = self.placement.provider_consumers(resources.provider_uuid(self.host))
            return set(consumers) - {i["uuid"] for i in self.conductor.host_instances(ctx, self.host)}

        deleted = recovery.deleted_among(self, not_live)
        for uuid in sorted(deleted):
            LOG.warning("instance %s is deleted but still held resources on %s; releasing them", uuid, self.host)
            self.scheduler.release(ctx, uuid)
        return sorted(deleted)

    def sync_power_states(self) -> None:
        """Make the database agree with the hypervisor about guests nobody is acting on right now."""
        ctx = nubis_context.admin_context()
        for inst in self.conductor.host_instances(ctx, self.host):
            if inst["kept_for_revert"] or inst["task_state"] is not None:
                continue
            if self.driver.power_state(inst["uuid"]) != inst["power_state"]:
                self.sync_power_state(inst["uuid"])

    def sync_power_state(self, uuid: str) -> None:
        """Bring one instance's record in line with its guest, unless an action is under way."""
        ctx = nubis_context.admin_context()
        with self.instance_lock(uuid):
            power = self.driver.power_state(uuid)
            # Read the record under the lock: an action may have finished since anyone last looked.
            inst = next((i for i in self.conductor.host_instances(ctx, self.host) if i["uuid"] == uuid), None)
            if inst is None or inst["kept_for_revert"] or inst["task_state"] is not None \
                    or power == inst["power_state"]:
                return
            if inst["vm_state"] == states.STOPPED and power == states.RUNNING:
                LOG.warning("instance %s runs but is recorded stopped; powering it off", uuid)
                self.driver.power_off(uuid)
                power = self.driver.power_state(uuid)
            values: dict[str, Any] = {}
            if power != inst["power_state"]:
                values["power_state"] = power
            vanished = power == states.NOSTATE and inst["vm_state"] not in (states.ERROR, states.BUILDING)
            if vanished:
                # Nothing to start again: say so, rather than show a server that cannot come back.
                LOG.warning("the guest of instance %s is gone from %s", uuid, self.host)
                values["vm_state"] = states.ERROR
            elif inst["vm_state"] == states.ACTIVE and power in (states.SHUTDOWN, states.CRASHED):
                LOG.warning("instance %s stopped outside Nubis (power state %s)", uuid, power)
                values["vm_state"] = states.STOPPED
            # Only if still idle: an action that started meanwhile owns the state.
            if values:
                self.conductor.instance_update(ctx, uuid, values, only_if_idle=True, fault=Fault(
                    500, f"The guest of instance {uuid} disappeared from host {self.host} outside Nubis; rebuild "
                         "or delete the server.", "GuestVanished") if vanished else None)

    def recover(self) -> None:
        """Resume or end what this host was doing when the agent stopped (see ``agent.recovery``)."""
        recovery.recover(self)

    @contextmanager
    def instance_lock(self, uuid: str) -> Iterator[None]:
        # Conflicting operations on one instance run one after the other.
        with self._locks_guard:
            lock = self._locks[uuid]
        with lock:
            yield

    # -- operations --------------------------------------------------------------------------------------

    @staticmethod
    def _guest(instance: dict[str, Any]) -> GuestSpec:
        flavor = instance["flavor"]
        return GuestSpec(uuid=instance["uuid"], name=instance["name"], vcpus=flavor["vcpus"],
                         memory_mb=flavor["memory_mb"], root_gb=flavor["root_gb"], image_ref=instance.get("image_ref"),
                         image_meta=instance.get("image_meta") or {}, user_data=instance.get("user_data"),
                         key_data=instance.get("key_data"), numa_fit=instance.get("numa_fit"),
                         metadata=instance.get("metadata") or {}, extra_specs=flavor.get("extra_specs") or {},
                         ephemeral_gb=flavor.get("ephemeral_gb") or 0, swap_mb=flavor.get("swap") or 0,
                         key_name=instance.get("key_name"), config_drive=bool(instance.get("config_drive")),
                         project_id=instance.get("project_id") or "",
                         availability_zone=instance.get("availability_zone"))

    @staticmethod
    def _root_volume(block_device_info: dict[str, Any] | None) -> dict[str, Any] | None:
        """The root volume's ``connection_info`` (the mapping with boot_index 0), None for an image-backed boot."""
        for bdm in (block_device_info or {}).get("block_device_mapping") or []:
            if bdm.get("boot_index") == 0:
                return dict(bdm["connection_info"])
        return None

    @staticmethod
    def _data_volumes(block_device_info: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The mappings other than the root (boot_index 0): volumes the guest gets as data disks at spawn."""
        return [bdm for bdm in (block_device_info or {}).get("block_device_mapping") or []
                if bdm.get("boot_index") != 0]

    def build_and_run_instance(self, ctx: RequestContext, instance: dict[str, Any],
                               block_device_info: dict[str, Any] | None = None) -> None:
        """Spawn the guest placed here; ``block_device_info`` (RPC 1.4) gives a volume-backed guest its root
        disk, and the volumes attached right after the spawn (data volumes at boot, an unshelved server's). Any
        failure rests the instance in ERROR with a fault (its volumes stay attached until its delete, which gives
        them back)."""
        uuid = instance["uuid"]
        # A boot is placed idle in BUILDING, an unshelve keeps its task: anything else (deleted, or ended as
        # interrupted by a restarted service) is no longer this build's to do.
        unshelve = bool(instance.get("delete_image_after"))
        with self.instance_lock(uuid):
            if not self.conductor.instance_update(
                    ctx, uuid, {"task_state": states.SPAWNING},
                    expected_task_state=states.UNSHELVING if unshelve else None, only_if_idle=not unshelve,
                    expected_vm_state=states.SHELVED_OFFLOADED if unshelve else states.BUILDING):
                return
            notifications.emit(self.notifier, ctx, "instance.create.start", uuid, self.host, state=states.BUILDING)
            began = time.monotonic()
            try:
                # Expecting the ports' network-vif-plugged before they are bound: an early event is kept.
                with self.events.expect(uuid, events.VIF_PLUGGED) as plugged:
                    vifs = self._plug_networks(instance)
                    data = self._data_volumes(block_device_info)
                    self.driver.spawn(dataclasses.replace(
                        self._guest(instance), vifs=tuple(vifs), root_volume=self._root_volume(block_device_info),
                        volume_devices=tuple(str(bdm["mount_device"]) for bdm in data)))
                    for bdm in data:  # the boot's data volumes, or an unshelved server's
                        self.driver.attach_volume(uuid, bdm["connection_info"], bdm["mount_device"])
                    self.wait_for_vifs(uuid, vifs, plugged)
            except Stopping:
                LOG.info("stopping: the build of %s resumes at the next start", uuid)
                return
            except Exception as exc:  # noqa: BLE001 - every failure becomes the instance's fault
                self._build_failed(ctx, uuid, exc)
                return
            LOG.info("instance %s spawned on %s in %.2f seconds", uuid, self.host, time.monotonic() - began)
            if not self.finish_build(ctx, uuid, vifs, ctx.request_id):
                return
            notifications.emit(self.notifier, ctx, "instance.create.end", uuid, self.host, state=states.ACTIVE,
                               power_state=self.driver.power_state(uuid))
        if instance.get("delete_image_after") and self.images is not None:
            # An unshelved server runs again: the image that kept its disk meanwhile has done its job.
            self.images.delete(instance["delete_image_after"])

    def finish_build(self, ctx: RequestContext, uuid: str, vifs: list[dict[str, Any]],
                     request_id: str | None) -> bool:
        """Record a spawned guest ACTIVE; False (and the guest and its ports removed) if it was deleted meanwhile.

        A delete that found no host yet (the API's local delete, as Nova's) gave back the ports it saw; those
        this build made after it are given back here, or their subnet could never be deleted.
        """
        done = self.conductor.instance_update(ctx, uuid, {
            "vm_state": states.ACTIVE, "task_state": None, "power_state": self.driver.power_state(uuid),
            "launched_at": types.utcnow().isoformat(), "network_info": vifs}, expected_task_state=states.SPAWNING,
            action=ActionEnd(request_id))
        if not done:
            self.driver.destroy(uuid)
            if vifs:
                self.unplug_networks(uuid)
        return done

    def _plug_networks(self, instance: dict[str, Any]) -> list[dict[str, Any]]:
        """Create (first boot) and bind the instance's ports to this host; its VIFs."""
        if self.network is None or not self.network.available():
            if instance.get("requested_networks"):
                raise DriverError("this compute host cannot reach the network service")
            return []
        return self.network.allocate(instance, self.host)

    def wait_for_vifs(self, uuid: str, vifs: list[dict[str, Any]], plugged: events.Waiter) -> None:
        """Until the host's network agent has wired every port: the network service's ``network-vif-plugged``
        events through ``plugged``, a status read now and then in case one was lost; up to
        ``[compute] vif_plugging_timeout`` seconds. A timeout or a ``failed`` event fails the build when
        ``vif_plugging_is_fatal`` (Nova's options); otherwise the guest boots anyway.

        :raises Stopping: the agent is stopping (the build stays SPAWNING, for the next start to resume).
        :raises DriverError: not plugged in time, or plugging failed, and ``vif_plugging_is_fatal``.
        """
        network = self.network
        if not vifs or network is None:
            return
        timeout = self.conf.compute.vif_plugging_timeout
        missing, failed = events.wait_for_plugged(plugged, {v["id"] for v in vifs}, timeout,
                                                  lambda ports: network.active_ports(uuid, ports),
                                                  lambda: self.stopping)
        if missing and self.stopping:
            raise Stopping(uuid)
        if not (missing or failed):
            return
        if failed:
            message = f"The network service failed to plug ports {', '.join(sorted(failed))} (network-vif-plugged)"
        else:
            message = (f"Timed out after {timeout}s waiting for the network agent of host {self.host} to plug "
                       f"ports {', '.join(sorted(missing))} (network-vif-plugged); is the network agent running "
                       "on this host?")
        if self.conf.compute.vif_plugging_is_fatal:
            raise DriverError(message)
        LOG.warning("%s; booting %s anyway ([compute] vif_plugging_is_fatal is off)", message, uuid)

    def unplug_networks(self, uuid: str, strict: bool = False) -> None:
        """Release the instance's ports. A failure (the network service or identity unreachable) is logged,
        since the guest is gone either way; ``strict`` raises it instead (a delete: the server must not go
        away leaving its ports, so it fails and is deleted again)."""
        try:
            if self.network is None or not self.network.available():
                return
            self.network.deallocate(uuid, self._project_of(uuid))
        except Exception:  # noqa: BLE001 - see the docstring
            if strict:
                raise
            LOG.exception("could not release the ports of %s", uuid)

    def _project_of(self, uuid: str) -> str | None:
        """The project of this host's instance ``uuid`` (None: not this host's). With it, deallocating also
        finds the ports a build created but had not bound yet (an agent killed mid-boot), which a lookup by
        device id alone must skip: any tenant may write any device id on a port of its own."""
        ctx = nubis_context.admin_context()
        return next((i.get("project_id") for i in self.conductor.host_instances(ctx, self.host)
                     if i["uuid"] == uuid and not i["kept_for_revert"]), None)

    def _build_failed(self, ctx: RequestContext, uuid: str, exc: Exception) -> None:
        LOG.warning("build of %s failed on %s: %s", uuid, self.host, exc)
        self.fail_build(ctx, uuid, failure(exc, f"Build of instance {uuid} failed on host {self.host}"),
                        ctx.request_id)

    def fail_build(self, ctx: RequestContext, uuid: str, fault: Fault, request_id: str | None) -> None:
        """Remove what the build made (guest, ports, claim) and rest the instance in ERROR with ``fault``."""
        try:
            self.driver.destroy(uuid)
        except Exception:  # noqa: BLE001 - the build already failed; report that one
            LOG.exception("cleaning up the failed build of %s", uuid)
        self.unplug_networks(uuid)
        # Resources go back first: once the instance shows ERROR, it holds nothing.
        self.scheduler.release(ctx, uuid)
        self.conductor.instance_update(ctx, uuid, {"vm_state": states.ERROR, "task_state": None,
                                                   "power_state": states.NOSTATE}, fault=fault,
                                       action=ActionEnd(request_id, "Error"))
        notifications.emit(self.notifier, ctx, "instance.create.error", uuid, self.host, state=states.ERROR,
                           fault=fault.message)

    def _call_driver(self, method: str, uuid: str) -> None:
        if method == "reboot_soft":
            self.driver.reboot(uuid, hard=False)
        elif method == "reboot_hard":
            self.driver.reboot(uuid, hard=True)
        else:
            getattr(self.driver, method)(uuid)

    def power_action(self, ctx: RequestContext, uuid: str, name: str) -> None:
        action = POWER_ACTIONS[name]
        with self.instance_lock(uuid):
            try:
                self._call_driver(action.driver_method, uuid)
            except Exception as exc:  # noqa: BLE001 - the instance keeps its state; the fault says why
                LOG.warning("%s of %s failed: %s", name, uuid, exc)
                self.conductor.instance_update(ctx, uuid, {"task_state": None,
                                                           "power_state": self.driver.power_state(uuid)},
                                               fault=failure(exc, f"Could not {name} instance {uuid}"),
                                               action=ActionEnd(ctx.request_id, "Error"))
                return
            self.conductor.instance_update(ctx, uuid, {"vm_state": action.end_vm_state, "task_state": None,
                                                       "power_state": action.end_power_state},
                                           expected_task_state=action.task_state, action=ActionEnd(ctx.request_id))
            notifications.emit(self.notifier, ctx, f"instance.{name}.end", uuid, self.host, state=action.end_vm_state,
                               power_state=action.end_power_state)

    @staticmethod
    def _kept_off(instance: dict[str, Any]) -> bool:
        """Whether a rebuild or resize (or its revert) leaves the guest off: Nova keeps a stopped server
        stopped through them (a RESIZED one was stopped when its guest is off). A payload from a conductor
        or API that does not send the state yet powers it on, as before."""
        vm_state = instance.get("vm_state")
        return vm_state == states.STOPPED or (vm_state == states.RESIZED
                                              and instance.get("power_state") == states.SHUTDOWN)

    def rebuild_instance(self, ctx: RequestContext, instance: dict[str, Any]) -> None:
        """Recreate the guest from ``instance``'s (new) image; it rests ACTIVE, or STOPPED if it was stopped."""
        uuid = instance["uuid"]
        stopped = self._kept_off(instance)
        with self.instance_lock(uuid):
            try:
                self.driver.destroy(uuid)
                self.driver.spawn(self._guest(instance), power_on=not stopped)
            except Exception as exc:  # noqa: BLE001 - the fault says why; the claim stays (the server still exists)
                LOG.warning("rebuild of %s failed: %s", uuid, exc)
                self.conductor.instance_update(ctx, uuid, {"vm_state": states.ERROR, "task_state": None,
                                                           "power_state": self.driver.power_state(uuid)},
                                               fault=failure(exc, f"Rebuild of instance {uuid} failed"),
                                               action=ActionEnd(ctx.request_id, "Error"))
                return
            end_state = states.STOPPED if stopped else states.ACTIVE
            self.conductor.instance_update(ctx, uuid, {"vm_state": end_state, "task_state": None,
                                                       "power_state": self.driver.power_state(uuid),
                                                       "launched_at": types.utcnow().isoformat()},
                                           expected_task_state=states.REBUILDING, action=ActionEnd(ctx.request_id))
            notifications.emit(self.notifier, ctx, "instance.rebuild.end", uuid, self.host, state=end_state,
                               image_uuid=instance.get("image_ref"))

    def resize_instance(self, ctx: RequestContext, instance: dict[str, Any], revert: bool) -> None:
        """Apply ``instance``'s flavor to its guest: it rests RESIZED (ACTIVE or STOPPED on a revert), its
        guest off if the server was stopped."""
        uuid = instance["uuid"]
        expected = states.RESIZE_REVERTING if revert else states.RESIZE_MIGRATING
        stopped = self._kept_off(instance)
        with self.instance_lock(uuid):
            try:
                self.driver.resize(self._guest(instance), power_on=not stopped)
            except Exception as exc:  # noqa: BLE001 - the fault says why
                LOG.warning("resize of %s failed: %s", uuid, exc)
                self.conductor.instance_update(ctx, uuid, {"vm_state": states.ERROR, "task_state": None},
                                               fault=failure(exc, f"Resize of instance {uuid} failed"),
                                               action=ActionEnd(ctx.request_id, "Error"))
                return
            self.conductor.instance_update(ctx, uuid, {
                "vm_state": (states.STOPPED if stopped else states.ACTIVE) if revert else states.RESIZED,
                "task_state": None,
                "power_state": self.driver.power_state(uuid)}, expected_task_state=expected,
                action=ActionEnd(ctx.request_id))
            notifications.emit(self.notifier, ctx, "instance.resize_revert.end" if revert else "instance.resize.end",
                               uuid, self.host, flavor=instance["flavor"].get("name"))

    def terminate_instance(self, ctx: RequestContext, uuid: str) -> None:
        """Remove the guest, its ports and the record. Each step may be done again: a delete interrupted by
        a stop is done again, whole, at the next start."""
        with self.instance_lock(uuid):
            try:
                self.driver.destroy(uuid)
                self.unplug_networks(uuid, strict=True)
                self.conductor.instance_deleted(ctx, uuid)
            except Stopping:
                raise
            except Exception as exc:  # noqa: BLE001 - never left "deleting" for ever: ERROR, to be deleted again
                LOG.warning("delete of %s failed on %s: %s", uuid, self.host, exc)
                self.conductor.instance_update(
                    ctx, uuid, {"vm_state": states.ERROR, "task_state": None}, expected_task_state=states.DELETING,
                    fault=failure(exc, f"Delete of instance {uuid} failed on host {self.host}; delete it again"),
                    action=ActionEnd(ctx.request_id, "Error"))
                return
        with self._locks_guard:
            self._locks.pop(uuid, None)

    def attach_volume(self, ctx: RequestContext, uuid: str, connection_info: dict[str, Any], device: str) -> str:
        """Hot-plug a volume into the guest (live and in its definition, so it stays across reboots); returns
        the device it got (``/dev/vdb``)."""
        with self.instance_lock(uuid):
            try:
                return "/dev/" + self.driver.attach_volume(uuid, connection_info, device)
            except DriverError as e:
                raise exceptions.InternalError(f"Could not attach the volume to instance {uuid} as {device} on "
                                               f"{self.host}: {e}") from e

    def detach_volume(self, ctx: RequestContext, uuid: str, device: str) -> None:
        """Unplug a volume's disk from the guest (it must let go within the driver's timeout)."""
        with self.instance_lock(uuid):
            try:
                self.driver.detach_volume(uuid, device)
            except DriverError as e:
                raise exceptions.InternalError(f"Could not detach {device} from instance {uuid} on "
                                               f"{self.host}: {e}") from e

    def extend_volume(self, ctx: RequestContext, uuid: str, volume_id: str, device: str, new_size: int) -> None:
        """Grow the guest's disk of ``volume_id`` (``device``) to ``new_size`` bytes (the volume-extended event,
        Nova's ``extend_volume``); ends the ``extend_volume`` action, with "Error" when the driver could not."""
        with self.instance_lock(uuid):
            try:
                self.driver.extend_volume(uuid, device, new_size)
            except DriverError as exc:
                LOG.warning("Could not grow %s (volume %s) of instance %s to %d bytes: %s", device, volume_id,
                            uuid, new_size, exc)
                self.conductor.finish_action(ctx, uuid, ctx.request_id, "Error")
                return
            LOG.info("Grew %s (volume %s) of instance %s to %d bytes", device, volume_id, uuid, new_size)
            self.conductor.finish_action(ctx, uuid, ctx.request_id)

    def console_output(self, uuid: str) -> str:
        return self.driver.console_output(uuid)

    def get_console(self, uuid: str, kind: str) -> dict[str, Any]:
        """Where the guest's ``kind`` console listens, as the API binds a token to it."""
        endpoint = self.driver.get_console(uuid, kind)
        return {"host": endpoint.host, "port": endpoint.port, "internal_access_path": endpoint.internal_access_path}

    def get_diagnostics(self, uuid: str) -> dict[str, Any]:
        """The guest's diagnostics (``Diagnostics.to_dict()``), or {"error": why} when they cannot be read."""
        try:
            return self.driver.get_diagnostics(uuid).to_dict()
        except DriverError as exc:
            return {"error": str(exc)}

    def set_admin_password(self, ctx: RequestContext, instance: dict[str, Any], password: str) -> dict[str, str] | None:
        """Set the guest's admin password (the API set task_state updating_password and waits): None when
        done, else {"kind": "not_supported" | "failed", "message"}. The instance rests ACTIVE either way; a
        failure is recorded as the action's error, and the password itself is never logged."""
        guest = self._guest(instance)
        refused: dict[str, str] | None = None
        with self.instance_lock(guest.uuid):
            try:
                self.driver.set_admin_password(guest, password)
            except PasswordNotSupported as exc:
                refused = {"kind": "not_supported", "message": str(exc)}
            except DriverError as exc:
                LOG.warning("setting the admin password of %s failed: %s", guest.uuid, exc)
                refused = {"kind": "failed", "message": str(exc)}
            self.conductor.instance_update(ctx, guest.uuid, {"task_state": None},
                                           expected_task_state=states.UPDATING_PASSWORD,
                                           action=ActionEnd(ctx.request_id, "Error" if refused else None))
        return refused

    def _guest_action(self, ctx: RequestContext, uuid: str, verb: str, expected_task_state: str,
                      end_vm_state: str, call: Any) -> None:
        """Run ``call()`` (a driver operation) and record the instance resting in ``end_vm_state``; on failure
        it keeps its vm_state and the fault says why."""
        with self.instance_lock(uuid):
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - the fault says why
                LOG.warning("%s of %s failed: %s", verb, uuid, exc)
                self.conductor.instance_update(ctx, uuid, {"task_state": None,
                                                           "power_state": self.driver.power_state(uuid)},
                                               fault=failure(exc, f"Could not {verb} instance {uuid}"),
                                               action=ActionEnd(ctx.request_id, "Error"))
                return
            self.conductor.instance_update(ctx, uuid, {"vm_state": end_vm_state, "task_state": None,
                                                       "power_state": self.driver.power_state(uuid)},
                                           expected_task_state=expected_task_state, action=ActionEnd(ctx.request_id))
            notifications.emit(self.notifier, ctx, f"instance.{verb}.end", uuid, self.host, state=end_vm_state)

    def rescue_instance(self, ctx: RequestContext, instance: dict[str, Any], rescue_image: dict[str, Any]) -> None:
        guest = self._guest(instance)
        self._guest_action(ctx, guest.uuid, "rescue", states.RESCUING, states.RESCUED,
                           lambda: self.driver.rescue(guest, rescue_image))

    def unrescue_instance(self, ctx: RequestContext, uuid: str) -> None:
        self._guest_action(ctx, uuid, "unrescue", states.UNRESCUING, states.ACTIVE,
                           lambda: self.driver.unrescue(uuid))

    def trigger_crash_dump(self, ctx: RequestContext, uuid: str) -> None:
        """Inject an NMI; the action records whether the hypervisor took it."""
        with self.instance_lock(uuid):
            try:
                self.driver.trigger_crash_dump(uuid)
            except Exception as exc:  # noqa: BLE001 - the action's failure says why
                LOG.warning("crash dump of %s failed: %s", uuid, exc)
                self.conductor.instance_update(ctx, uuid, {}, fault=failure(
                    exc, f"Could not trigger a crash dump of instance {uuid}"), action=ActionEnd(ctx.request_id, "Error"))
                return
            self.conductor.finish_action(ctx, uuid, ctx.request_id)

    def _upload_snapshot(self, uuid: str, image_id: str) -> None:
        """Fill image ``image_id`` with the guest's disk; on failure delete the image and raise."""
        try:
            if self.images is None:
                raise DriverError("this compute host has no image service to upload to")
            snap = self.driver.snapshot(uuid)
            if snap.disk_format != "raw":  # the API created the image before it knew the host's format
                patched = self.images.update(image_id, [
                    {"op": "replace", "path": "/disk_format", "value": snap.disk_format}])
                if patched.status_code != 200:
                    raise DriverError(f"the image service refused the disk format: {patched.status_code} "
                                      f"{patched.text[:300]}")
            resp = self.images.upload(image_id, snap.chunks)
            if resp.status_code != 204:
                raise DriverError(f"the image service refused the upload: {resp.status_code} {resp.text[:300]}")
        except Exception:
            if self.images is not None:
                self.images.delete(image_id)
            raise

    def _snapshot_failed(self, ctx: RequestContext, uuid: str, verb: str, exc: Exception) -> None:
        # The instance is fine (it keeps running where it was); the snapshot is not.
        LOG.warning("%s of %s failed: %s", verb, uuid, exc)
        self.conductor.instance_update(ctx, uuid, {"task_state": None},
                                       fault=failure(exc, f"{verb} of instance {uuid} failed"),
                                       action=ActionEnd(ctx.request_id, "Error"))

    def snapshot_instance(self, ctx: RequestContext, uuid: str, image_id: str,
                          rotation: dict[str, Any] | None = None) -> None:
        """Upload the guest's disk into the image the API created; on failure the image is deleted again.

        For a backup (``rotation``), the oldest backups of its type beyond ``keep`` go once the new one is in.
        """
        with self.instance_lock(uuid):
            try:
                self._upload_snapshot(uuid, image_id)
            except Exception as exc:  # noqa: BLE001 - reported as the action's failure
                self._snapshot_failed(ctx, uuid, "Backup" if rotation else "Snapshot", exc)
                return
            if rotation:
                self._rotate_backups(uuid, rotation["backup_type"], int(rotation["keep"]), rotation.get("owner"))
            self.conductor.instance_update(ctx, uuid, {"task_state": None},
                                           expected_task_state=states.IMAGE_BACKUP if rotation
                                           else states.IMAGE_SNAPSHOT, action=ActionEnd(ctx.request_id))
            notifications.emit(self.notifier, ctx, "instance.snapshot.end", uuid, self.host, snapshot_image_id=image_id)

    def _rotate_backups(self, uuid: str, backup_type: str, keep: int, owner: str | None) -> None:
        assert self.images is not None
        # Only the server's project's images: anyone may tag an image of theirs with this instance_uuid, and
        # newer look-alikes must not push the real backups out of the rotation.
        listed = self.images.list({
            "instance_uuid": uuid, "image_type": "backup", "backup_type": backup_type, "status": "active",
            "sort": "created_at:desc", "limit": 1000, **({"owner": owner} if owner else {})})
        if listed.status_code != 200:
            LOG.warning("could not list the backups of %s to rotate them: %s", uuid, listed.status_code)
            return
        backups = [i for i in listed.json()["images"] if owner is None or i.get("owner") == owner]
        for old in backups[keep:]:
            self.images.delete(old["id"])

    def shelve_instance(self, ctx: RequestContext, uuid: str, image_id: str) -> None:
        """Save the disk into ``image_id``, remove the guest and give its resources back."""
        with self.instance_lock(uuid):
            try:
                self._upload_snapshot(uuid, image_id)
            except Exception as exc:  # noqa: BLE001 - the server stays where it is
                self._snapshot_failed(ctx, uuid, "Shelve", exc)
                return
            self.driver.destroy(uuid)
            self.scheduler.release(ctx, uuid)
            self.conductor.instance_update(ctx, uuid, {
                "vm_state": states.SHELVED_OFFLOADED, "task_state": None, "power_state": states.NOSTATE,
                "host": None, "node": None, "numa_fit": None}, expected_task_state=states.SHELVING,
                action=ActionEnd(ctx.request_id))
            notifications.emit(self.notifier, ctx, "instance.shelve_offload.end", uuid, self.host,
                               state=states.SHELVED_OFFLOADED, snapshot_image_id=image_id)
        with self._locks_guard:
            self._locks.pop(uuid, None)

    # -- events from other services ----------------------------------------------------------------------

    def external_event(self, ctx: RequestContext, event: dict[str, Any]) -> None:
        uuid = event["server_uuid"]
        if event["name"] == "power-update":  # the hypervisor was powered on or off behind our back
            power = states.RUNNING if event["tag"] == "POWER_ON" else states.SHUTDOWN
            self.conductor.instance_update(ctx, uuid, {"power_state": power, "vm_state": recovery.VM_STATE_OF_POWER[power]})
            return
        # Delivered to the build waiting for it, if any; an event nobody waits for is dropped (not kept).
        self.events.deliver(uuid, event["name"], event.get("tag"), event.get("status") or "completed")

    # -- moves between hosts (each step waited for by the conductor) ----------------------------------------

    def stop_guest(self, uuid: str) -> None:
        with self.instance_lock(uuid):
            if self.driver.power_state(uuid) != states.SHUTDOWN:
                self.driver.power_off(uuid)

    def receive_guest(self, instance: dict[str, Any], running: bool) -> int:
        uuid = instance["uuid"]
        with self.instance_lock(uuid):
            vifs = self.network.bind(uuid, self.host) if self.network is not None and self.network.available() else []
            self.driver.spawn(dataclasses.replace(self._guest(instance), vifs=tuple(vifs)))
            if not running:
                self.driver.power_off(uuid)
            return self.driver.power_state(uuid)

    def drop_guest(self, uuid: str) -> None:
        with self.instance_lock(uuid):
            self.driver.destroy(uuid)

    def start_guest(self, uuid: str) -> int:
        with self.instance_lock(uuid):
            if self.driver.power_state(uuid) != states.RUNNING:
                self.driver.power_on(uuid)
            return self.driver.power_state(uuid)
