"""The conductor: turns boots into scheduled builds, and writes what agents report."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa

from nubis.common import context, rpc
from nubis.common.clients.errors import PlacementError
from nubis.common.clients.placement import PlacementClient
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.compute import notifications, states
from nubis.compute.agent.rpcapi import ComputeAgentAPI
from nubis.compute.conductor import allocations
from nubis.compute.conductor.boot_volumes import BootMapping, BootVolumeConnector, VolumeNotReady
from nubis.compute.conductor.moves import Mover, instance_spec
from nubis.compute.core.consoles import ConsoleTokens
from nubis.compute.core.host_settings import HostSettings
from nubis.compute.core.instances import AGENT_WRITABLE, ActionEnd, Fault, InstanceStore
from nubis.compute.db.models import ComputeNode, Service
from nubis.scheduler.exceptions import NoValidHost
from nubis.scheduler.request_spec import RequestSpec
from nubis.scheduler.rpcapi import SchedulerAPI

LOG = logging.getLogger(__name__)


def _as_datetime(value: Any) -> Any:
    return datetime.datetime.fromisoformat(value) if isinstance(value, str) else value


class ConductorManager:
    def __init__(self, db: Database, scheduler: SchedulerAPI, agents: ComputeAgentAPI, notifier: rpc.Notifier,
                 placement: PlacementClient, host_settings: HostSettings,
                 boot_volumes: BootVolumeConnector | None = None) -> None:
        self.instances = InstanceStore(db)
        self.host_settings = host_settings
        self.db = db
        self.scheduler = scheduler
        self.agents = agents
        self.notifier = notifier
        self.placement = placement
        self.moves = Mover(db, self.instances, scheduler, agents, placement, notifier)
        self.console_tokens = ConsoleTokens(db)
        self.boot_volumes = boot_volumes

    # -- boots -----------------------------------------------------------------------------------------

    def build_instances(self, ctx: RequestContext, instances: list[dict[str, Any]], spec: dict[str, Any]) -> None:
        """Schedule the boot's instances and have their hosts build them; each one ends placed, or in ERROR
        with a fault. A failure no step expected (the database or broker failing over mid-way) ends the ones
        still waiting for a host at once, as a failed scheduling does, rather than at the recovery sweep
        minutes later; if even that cannot be written, the sweep ends them."""
        try:
            self._build_instances(ctx, instances, spec)
        except Exception as exc:  # noqa: BLE001 - logged; the instances' faults say why
            LOG.exception("building instances %s failed", ", ".join(i["uuid"] for i in instances))
            try:
                for uuid in self._fail_all(ctx, instances, f"Scheduling failed: {rpc.error_message(exc)}",
                                           type(exc).__name__):
                    self._release_quietly(ctx, uuid)
            except Exception:  # noqa: BLE001 - the recovery sweep ends them
                LOG.exception("could not end the failed build of %s", ", ".join(i["uuid"] for i in instances))

    def _build_instances(self, ctx: RequestContext, instances: list[dict[str, Any]], spec: dict[str, Any]) -> None:
        # Take them (touch them, so a recovering conductor sees they are being worked on); one deleted or
        # ended as interrupted meanwhile is left alone.
        instances = [i for i in instances if self.instances.update(i["uuid"], {"task_state": states.SCHEDULING},
                                                                   expected_task_state=[states.SCHEDULING])]
        if not instances:
            return
        mapped_volumes = self._wait_for_boot_volumes(ctx, instances)
        instances = [i for i in instances if i["uuid"] not in mapped_volumes or mapped_volumes[i["uuid"]] is not None]
        if not instances:
            return
        spec = {**spec, "instance_uuids": [i["uuid"] for i in instances]}
        try:
            selections = self.scheduler.select_destinations(ctx, RequestSpec.from_dict(spec), return_alternates=False)
        except NoValidHost as exc:
            self._fail_all(ctx, instances, rpc.error_message(exc), "NoValidHost")
            self._release_boot_volumes(ctx, mapped_volumes)
            return
        except Exception as exc:  # noqa: BLE001 - any failure ends as a fault the user can read
            LOG.exception("scheduling failed")
            self._fail_all(ctx, instances, f"Scheduling failed: {rpc.error_message(exc)}", type(exc).__name__)
            for instance in instances:  # the scheduler may have claimed some before it failed
                self._release_quietly(ctx, instance["uuid"])
            self._release_boot_volumes(ctx, mapped_volumes)
            return
        by_uuid = {s["instance_uuid"]: s for s in selections}
        for instance in instances:
            chosen = by_uuid[instance["uuid"]]
            placed = self.instances.update(instance["uuid"], {
                "host": chosen["host"], "node": chosen["node"], "numa_fit": chosen.get("numa_fit"),
                "availability_zone": chosen["availability_zone"], "task_state": None},
                expected_task_state=[states.SCHEDULING])
            mapped = mapped_volumes.get(instance["uuid"])
            if not placed:  # deleted while it was being scheduled
                self.scheduler.release(ctx, instance["uuid"])
                if mapped and self.boot_volumes is not None:
                    self.boot_volumes.release(ctx, mapped, deleted=True)
                continue
            block_device_info = None
            if mapped and self.boot_volumes is not None:
                try:
                    block_device_info = self.boot_volumes.connect(ctx, mapped, chosen["host"])
                except Exception as exc:  # noqa: BLE001 - the fault says why; the volumes are given back
                    LOG.warning("connecting the volumes of %s failed: %s", instance["uuid"], exc)
                    self.boot_volumes.release(ctx, mapped)
                    self._release_quietly(ctx, instance["uuid"])
                    why = str(exc) if isinstance(exc, VolumeNotReady) else \
                        f"its volumes could not be connected: {rpc.error_message(exc)}"
                    self._fail_all(ctx, [instance], f"Build of instance {instance['uuid']} aborted: {why}",
                                   type(exc).__name__, expected=None)
                    continue
            LOG.info("building instance %s on %s", instance["uuid"], chosen["host"])
            self.agents.build_and_run_instance(ctx, chosen["host"],
                                               {**instance, "numa_fit": chosen.get("numa_fit"),
                                                "request_id": ctx.request_id}, block_device_info)

    def _wait_for_boot_volumes(self, ctx: RequestContext,
                               instances: list[dict[str, Any]]) -> dict[str, list[BootMapping] | None]:
        """The volume mappings of each instance with volumes once they are all usable (by uuid); an instance
        with one that is not (it ended in error, or never left ``creating``) maps to None: it is ERROR with a
        fault naming the volume, and all its volumes are given back."""
        found: dict[str, list[BootMapping] | None] = {}
        if self.boot_volumes is None:
            return found
        for instance in instances:
            uuid = instance["uuid"]
            mapped = self.boot_volumes.mappings(uuid)
            if not mapped:
                continue

            def touch(uuid: str = uuid) -> None:  # still ours: the recovery sweep leaves touched boots alone
                self.instances.update(uuid, {"task_state": states.SCHEDULING}, expected_task_state=[states.SCHEDULING])

            try:
                for mapping in mapped:
                    self.boot_volumes.wait(ctx, mapping, touch)
            except VolumeNotReady as exc:
                LOG.warning("a volume of %s is not usable: %s", uuid, exc)
                self.boot_volumes.release(ctx, mapped)
                self._fail_all(ctx, [instance], f"Build of instance {uuid} aborted: {exc}", "VolumeNotCreated")
                found[uuid] = None
                continue
            found[uuid] = mapped
        return found

    def _release_boot_volumes(self, ctx: RequestContext, found: dict[str, list[BootMapping] | None]) -> None:
        """Give back the volumes of boots that failed before any host had them."""
        if self.boot_volumes is None:
            return
        for mapped in found.values():
            if mapped:
                self.boot_volumes.release(ctx, mapped)

    def _release_quietly(self, ctx: RequestContext, uuid: str) -> None:
        try:
            self.scheduler.release(ctx, uuid)
        except Exception:  # noqa: BLE001 - the server's delete releases again
            LOG.exception("releasing what %s held failed", uuid)

    def _fail_all(self, ctx: RequestContext, instances: list[dict[str, Any]], message: str, kind: str,
                  expected: str | None = states.SCHEDULING) -> list[str]:
        """Rest each of ``instances`` still in task ``expected`` in ERROR with a fault; the uuids it did."""
        failed = []
        for instance in instances:
            uuid = instance["uuid"]
            if not self.instances.update(uuid, {"vm_state": states.ERROR, "task_state": None},
                                         expected_task_state=[expected], fault=Fault(500, message, kind),
                                         action=ActionEnd(ctx.request_id, "Error")):
                continue  # deleted, placed, or failed by a recovering conductor meanwhile
            failed.append(uuid)
            notifications.emit(self.notifier, ctx, "instance.create.error", uuid, None, state=states.ERROR,
                               fault=message)
        return failed

    # -- unshelve -----------------------------------------------------------------------------------------

    def unshelve_instance(self, ctx: RequestContext, uuid: str, zone: str | None) -> None:
        """Place a shelved instance again and have its new host boot it from the shelved image."""
        try:
            chosen = self.scheduler.select_destinations(ctx, instance_spec(self.db, self.instances, uuid, zone=zone),
                                                        return_alternates=False)[0]
        except Exception as exc:  # noqa: BLE001 - it stays shelved; the fault says why
            if not isinstance(exc, NoValidHost):
                LOG.exception("scheduling the unshelve of %s failed", uuid)
            self.instances.update(uuid, {"task_state": None}, expected_task_state=[states.UNSHELVING], fault=Fault(
                500, f"Unshelve of instance {uuid} failed: {rpc.error_message(exc)}", type(exc).__name__),
                action=ActionEnd(ctx.request_id, "Error"))
            return
        try:  # its volumes (attached before the shelve, or while it was offloaded) go to the new host's guest
            volumes = self.boot_volumes.data_volumes(ctx, uuid, chosen["host"]) if self.boot_volumes else []
        except Exception as exc:  # noqa: BLE001 - it stays shelved, its claim given back; the fault says why
            LOG.exception("connecting the volumes of %s for its unshelve failed", uuid)
            self.scheduler.release(ctx, uuid)
            self.instances.update(uuid, {"task_state": None}, expected_task_state=[states.UNSHELVING], fault=Fault(
                500, f"Unshelve of instance {uuid} failed: its volumes could not be connected: "
                     f"{rpc.error_message(exc)}", type(exc).__name__), action=ActionEnd(ctx.request_id, "Error"))
            return
        with self.db.reader() as s:
            image = self.instances.get_row(s, uuid).shelved_image_id
        if not self.instances.update(uuid, {"host": chosen["host"], "node": chosen["node"],
                                            "numa_fit": chosen.get("numa_fit"),
                                            "availability_zone": chosen["availability_zone"], "shelved_image_id": None},
                                     expected_task_state=[states.UNSHELVING]):
            # Deleted meanwhile (the API's local delete marked it deleting): what was claimed goes back.
            self.scheduler.release(ctx, uuid)
            return
        payload = {**self.instances.payload(uuid), "image_ref": image, "delete_image_after": image,
                   "numa_fit": chosen.get("numa_fit"), "request_id": ctx.request_id}
        self.agents.build_and_run_instance(ctx, chosen["host"], payload,
                                           {"block_device_mapping": volumes} if volumes else None)

    # -- resize ----------------------------------------------------------------------------------------

    def _provider_of(self, host: str | None) -> str:
        with self.db.reader() as s:
            node = s.scalar(sa.select(ComputeNode).where(ComputeNode.host == host))
            if node is None:
                raise PlacementError(f"no compute node recorded for host {host}")
            return node.uuid

    def resize_instance(self, ctx: RequestContext, uuid: str, flavor: dict[str, Any]) -> None:
        payload = self.instances.payload(uuid)
        with self.db.reader() as s:
            inst = self.instances.get_row(s, uuid)
            host, old = inst.host, inst.flavor
        try:
            moved = self.placement.reallocate(uuid, self._provider_of(host),
                                           allocations.flavor_resources(flavor))
        except Exception as exc:  # noqa: BLE001 - the fault tells the user
            LOG.exception("resize claim of %s failed", uuid)
            moved, reason = False, f"placement refused the claim: {rpc.error_message(exc)}"
        else:
            reason = f"host {host} has no room for flavor {flavor['name']}"
        if not moved:
            self.instances.update(uuid, {"task_state": None},
                                  fault=Fault(500, f"Resize of instance {uuid} failed: {reason}", "NoValidHost"),
                                  action=ActionEnd(ctx.request_id, "Error"))
            return
        self.instances.update(uuid, {"flavor": flavor, "old_flavor": old, "vcpus": flavor["vcpus"],
                                     "memory_mb": flavor["memory_mb"], "root_gb": flavor["root_gb"],
                                     "task_state": states.RESIZE_MIGRATING})
        assert host is not None  # the claim moved, so the host has a compute node
        self.agents.resize_instance(ctx, host, {**payload, "flavor": flavor}, revert=False)

    def revert_resize(self, ctx: RequestContext, uuid: str) -> None:
        payload = self.instances.payload(uuid)
        with self.db.reader() as s:
            inst = self.instances.get_row(s, uuid)
            host, old = inst.host, inst.old_flavor
        # Going back can only free room on the same host: the old flavor's claim fits by construction
        # unless the host shrank meanwhile, which the fault would then report.
        if not self.placement.reallocate(uuid, self._provider_of(host), allocations.flavor_resources(old)):
            self.instances.update(uuid, {"task_state": None}, fault=Fault(
                500, f"Reverting the resize of {uuid} failed: host {host} has no room for flavor {old['name']} "
                     "any more", "NoValidHost"), action=ActionEnd(ctx.request_id, "Error"))
            return
        self.instances.update(uuid, {"flavor": old, "old_flavor": None, "vcpus": old["vcpus"],
                                     "memory_mb": old["memory_mb"], "root_gb": old["root_gb"]})
        assert host is not None  # the claim moved, so the host has a compute node
        self.agents.resize_instance(ctx, host, {**payload, "flavor": old}, revert=True)

    # -- what agents report --------------------------------------------------------------------------

    def instance_update(self, uuid: str, values: dict[str, Any], expected_task_state: str | None,
                        only_if_idle: bool = False, expected_vm_state: str | None = None,
                        fault: Fault | None = None, action: ActionEnd | None = None) -> bool:
        unknown = set(values) - AGENT_WRITABLE
        if unknown:
            raise ValueError(f"agents may not set {sorted(unknown)}")
        values = {k: _as_datetime(v) if k.endswith("_at") else v for k, v in values.items()}
        expected = [None] if only_if_idle else (None if expected_task_state is None else [expected_task_state])
        return self.instances.update(uuid, values, expected_task_state=expected,
                                     allowed_vm_states=None if expected_vm_state is None else [expected_vm_state],
                                     fault=fault, action=action)

    def instance_deleted(self, ctx: RequestContext, uuid: str) -> None:
        # Release first: a deleted instance must hold nothing, and a failed release leaves it visible to retry.
        self.scheduler.release(ctx, uuid)
        self.instances.mark_deleted(uuid)
        notifications.emit(self.notifier, ctx, "instance.delete.end", uuid, None, state=states.DELETED)

    def add_fault(self, uuid: str, code: int, message: str, details: str | None) -> None:
        self.instances.add_fault(uuid, code, message, details)

    def finish_action(self, uuid: str, request_id: str | None, message: str | None) -> None:
        self.instances.finish_action(uuid, request_id, message)

    def host_instances(self, host: str) -> list[dict[str, Any]]:
        return self.instances.on_host(host)

    def service_heartbeat(self, host: str, binary: str, versions: dict[str, Any] | None = None) -> None:
        """Record that the service is up and, from RPC 1.3 senders, the versions it runs."""
        with self.db.writer() as s:
            row = s.scalar(sa.select(Service).where(Service.host == host, Service.binary == binary))
            if row is None:
                row = Service(host=host, binary=binary)
                s.add(row)
            else:
                row.last_seen_up = types.utcnow()
            if versions is not None and row.versions != versions:
                row.versions = versions

    def compute_node_update(self, node: dict[str, Any]) -> None:
        with self.db.writer() as s:
            row = s.scalar(sa.select(ComputeNode).where(ComputeNode.host == node["host"]))
            if row is None:
                row = ComputeNode(host=node["host"], uuid=node["uuid"])
                s.add(row)
            for key in ("uuid", "hypervisor_hostname", "hypervisor_type", "vcpus", "memory_mb", "local_gb",
                        "cpu_info"):
                setattr(row, key, node[key])
            row.host_started_at = _as_datetime(node.get("host_started_at"))
            row.updated_at = types.utcnow()
        # A (re)registering host gets the API's settings for it (zone, aggregates, enabled) into the scheduler.
        self.host_settings.push(context.admin_context(), [node["host"]])
