"""Instance records and their history, as both the API and the conductor change them."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.db import dml, types
from nubis.common.db.engine import Database
from nubis.common.db.retry import retry_on_deadlock
from nubis.compute.db.models import ConsoleAuthToken, Instance, InstanceAction, InstanceFault, Migration

# An agent asks about the instances of the ports left on its host: one question, bounded.
MAX_DELETED_LOOKUP = 1000
# What agents may set through the conductor (never owner, flavor, ...).
AGENT_WRITABLE = frozenset({"vm_state", "task_state", "power_state", "host", "node", "launched_at",
                            "availability_zone", "numa_fit", "network_info"})


def image_meta(image: dict[str, Any]) -> dict[str, Any]:
    """What a driver needs to know of an image: where to fetch it, how to check it, how to boot it."""
    keep = ("hw_", "img_", "os_")
    return {"id": image.get("id"), "disk_format": image.get("disk_format"),
            "container_format": image.get("container_format"), "size": image.get("size"),
            "os_hash_algo": image.get("os_hash_algo"), "os_hash_value": image.get("os_hash_value"),
            "properties": {k: v for k, v in image.items()
                           if k.startswith(keep) or k in ("kernel_id", "ramdisk_id", "os_command_line")}}


def guest_payload(inst: Instance, image: dict[str, Any] | None = None) -> dict[str, Any]:
    """What an agent needs to create the guest (it has no database to look anything up in).

    Without ``image`` (moves, resizes) the driver looks the image up itself if it needs it.
    """
    return {"uuid": inst.uuid, "name": inst.name, "flavor": inst.flavor, "image_ref": inst.image_ref,
            "image_meta": image_meta(image) if image else {}, "key_name": inst.key_name, "key_data": inst.key_data,
            "user_data": inst.user_data, "metadata": dict(inst.metadata_items or {}), "numa_fit": inst.numa_fit,
            "config_drive": bool(inst.config_drive), "project_id": inst.project_id,
            "availability_zone": inst.availability_zone, "requested_networks": inst.requested_networks or [],
            # So a rebuild or resize leaves a stopped server stopped (an agent reads them; older ones ignore them).
            "vm_state": inst.vm_state, "power_state": inst.power_state}


@dataclasses.dataclass(frozen=True)
class Fault:
    """Why an instance failed, as ``fault`` shows it (code, message, details: nova's instance fault)."""

    code: int
    message: str
    details: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Fault:
        return cls(int(body["code"]), str(body["message"]), body.get("details"))


@dataclasses.dataclass(frozen=True)
class ActionEnd:
    """The end of the instance action a request started (its request id; None: whichever is unfinished,
    as when a restarted service ends work it cannot tell the request of), with "Error" when it failed."""

    request_id: str | None
    message: str | None = None


def revoke_console_tokens(s: Any, uuid: str) -> None:
    """Drop every remote console token of instance ``uuid`` (in the caller's transaction)."""
    s.execute(sa.delete(ConsoleAuthToken).where(ConsoleAuthToken.instance_uuid == uuid))


def _one_of(column: Any, values: Iterable[str | None]) -> sa.ColumnElement[bool]:
    """``column`` holds one of ``values``, None meaning NULL (SQL's IN never matches NULL)."""
    wanted = list(values)
    named = [v for v in wanted if v is not None]
    cond: sa.ColumnElement[bool] = column.in_(named) if named else sa.false()
    return sa.or_(cond, column.is_(None)) if None in wanted else cond


class InstanceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get_row(self, s: Any, uuid: str) -> Instance:
        row = s.get(Instance, uuid)
        if row is None or row.deleted:
            raise exceptions.NotFound(f"Instance {uuid} could not be found.")
        return row

    # Agents' and conductors' writes race the API's; on Galera a lost certification is a deadlock at commit.
    @retry_on_deadlock
    def update(self, uuid: str, values: dict[str, Any], expected_task_state: Iterable[str | None] | None = None,
               allowed_vm_states: Iterable[str] | None = None, fault: Fault | None = None,
               action: ActionEnd | None = None, unchanged_since: datetime.datetime | None = None,
               expected_host: Iterable[str | None] | None = None) -> bool:
        """One conditional UPDATE: True when the row was in the expected state and changed.

        The condition is part of the statement, so two requests racing for the
        same instance cannot both start an action (no read-then-write window).
        ``fault`` and the end of the ``action`` are written in the same transaction, and only when the
        row changed: nobody can read the new state without the record that explains it.
        With ``unchanged_since``, only if nobody has changed the row since then; with ``expected_host``, only
        if it is still on one of those hosts (None: not placed).
        """
        q = sa.update(Instance).where(Instance.uuid == uuid, Instance.deleted.is_(False))
        if expected_task_state is not None:
            q = q.where(_one_of(Instance.task_state, expected_task_state))
        if allowed_vm_states is not None:
            q = q.where(Instance.vm_state.in_(list(allowed_vm_states)))
        if expected_host is not None:
            q = q.where(_one_of(Instance.host, expected_host))
        if unchanged_since is not None:
            q = q.where(Instance.updated_at < unchanged_since)
        with self.db.writer() as s:
            if not dml.rowcount(s.execute(q.values(**values, updated_at=types.utcnow()))):
                return False
            if "host" in values:  # a console token names the old host's endpoint: it must not outlive the move
                revoke_console_tokens(s, uuid)
            if fault is not None:
                s.add(InstanceFault(instance_uuid=uuid, code=fault.code, message=fault.message, details=fault.details))
            if action is not None:
                self._finish_action(s, uuid, action.request_id, action.message)
            return True

    @retry_on_deadlock
    def mark_deleted(self, uuid: str) -> bool:
        now = types.utcnow()
        with self.db.writer() as s:
            revoke_console_tokens(s, uuid)
            return bool(dml.rowcount(s.execute(
                sa.update(Instance).where(Instance.uuid == uuid, Instance.deleted.is_(False))
                .values(deleted=True, vm_state="deleted", task_state=None, terminated_at=now, updated_at=now))))

    @retry_on_deadlock
    def add_fault(self, uuid: str, code: int, message: str, details: str | None) -> None:
        with self.db.writer() as s:
            s.add(InstanceFault(instance_uuid=uuid, code=code, message=message, details=details))

    def latest_faults(self, s: Any, uuids: list[str]) -> dict[str, InstanceFault]:
        if not uuids:
            return {}
        out: dict[str, InstanceFault] = {}
        for fault in s.scalars(sa.select(InstanceFault).where(InstanceFault.instance_uuid.in_(uuids))
                               .order_by(InstanceFault.id)):
            out[fault.instance_uuid] = fault
        return out

    def start_action(self, s: Any, uuid: str, action: str, ctx: Any) -> None:
        s.add(InstanceAction(instance_uuid=uuid, action=action, request_id=ctx.request_id,
                             user_id=ctx.user_id or "", project_id=ctx.project_id or ""))

    def finish_action(self, uuid: str, request_id: str | None, message: str | None) -> None:
        with self.db.writer() as s:
            self._finish_action(s, uuid, request_id, message)

    @staticmethod
    def _finish_action(s: Any, uuid: str, request_id: str | None, message: str | None) -> None:
        q = sa.update(InstanceAction).where(InstanceAction.instance_uuid == uuid, InstanceAction.finish_time.is_(None))
        if request_id is not None:
            q = q.where(InstanceAction.request_id == request_id)
        s.execute(q.values(finish_time=types.utcnow(), message=message))

    def actions(self, uuid: str) -> list[InstanceAction]:
        with self.db.reader() as s:
            rows = list(s.scalars(sa.select(InstanceAction).where(InstanceAction.instance_uuid == uuid)
                                  .order_by(InstanceAction.start_time.desc(), InstanceAction.id.desc())))
            for r in rows:
                s.expunge(r)
            return rows

    def payload(self, uuid: str) -> dict[str, Any]:
        """The agent's view of an instance as recorded now."""
        with self.db.reader() as s:
            return guest_payload(self.get_row(s, uuid))

    def deleted_of(self, uuids: Sequence[str]) -> dict[str, str]:
        """Of ``uuids`` (at most ``MAX_DELETED_LOOKUP``; more raise ``BadRequest``), those recorded as
        deleted: uuid -> project id. Uuids of no instance are left out."""
        if len(uuids) > MAX_DELETED_LOOKUP:
            raise exceptions.BadRequest(f"At most {MAX_DELETED_LOOKUP} instances may be looked up at once.")
        with self.db.reader() as s:
            rows = s.execute(sa.select(Instance.uuid, Instance.project_id).where(
                Instance.uuid.in_(list(uuids)), Instance.deleted.is_(True)))
            return {uuid: project for uuid, project in rows}

    def on_host(self, host: str) -> list[dict[str, Any]]:
        """Instances whose guest belongs on ``host``: those placed there, and those a cold migration
        moved away but keeps there until it is confirmed (``kept_for_revert``)."""
        with self.db.reader() as s:
            placed = [{"uuid": r.uuid, "vm_state": r.vm_state, "task_state": r.task_state,
                       "power_state": r.power_state, "kept_for_revert": False, "project_id": r.project_id}
                      for r in s.scalars(sa.select(Instance).where(Instance.host == host,
                                                                   Instance.deleted.is_(False)))]
            kept = [{"uuid": m.instance_uuid, "vm_state": None, "task_state": None, "power_state": None,
                     "kept_for_revert": True, "project_id": None}
                    for m in s.scalars(sa.select(Migration).where(Migration.source_host == host,
                                                                  Migration.status == "finished"))]
            return placed + kept
