"""Volumes attached to servers (Nova's ``os-volume_attachments``): attach, list, show, detach, and the clean-up
when a server is deleted.

Attach follows Nova's new-style flow against the volume service's attachments API, as the caller: a block
device mapping is recorded first (under the server's row lock, so two attaches never pick the same device),
then the volume service reserves the volume and exports it for this server's host (``connection_info``), the
server's compute agent hot-plugs the disk into the guest, and ``os-complete`` makes the volume ``in-use``. Any
failure undoes what was done: the attachment is deleted (the volume is ``available`` again, its export gone)
and the mapping removed. Detach unplugs the disk from the guest first, then deletes the attachment.
"""

from __future__ import annotations

import builtins
import logging
import string
from typing import Any

import sqlalchemy as sa
from oslo_utils import strutils
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.clients.volume import VolumeClient
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.compute import states
from nubis.compute.core.servers import ServerCore
from nubis.compute.db.models import BlockDeviceMapping, Instance

LOG = logging.getLogger(__name__)
# Servers in these states have a guest (running or defined) whose disks can change; a suspended guest keeps the
# disks it was saved with. A shelved-offloaded server (2.20) has no guest: its volumes are only recorded and
# reserved, and connected when it is unshelved.
ATTACH_VM_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED, states.RESIZED)
ROOT_DEVICE = "/dev/vda"


def _mapping(s: orm.Session, bdm_id: str) -> BlockDeviceMapping:
    """The mapping this request made (gone only if the server was deleted meanwhile: then 404)."""
    row = s.get(BlockDeviceMapping, bdm_id)
    if row is None:
        raise exceptions.NotFound(f"The attachment {bdm_id} is gone: its server was deleted meanwhile.")
    return row


def _as_dict(b: BlockDeviceMapping) -> dict[str, Any]:
    return {"id": b.volume_id, "volumeId": b.volume_id, "serverId": b.instance_uuid, "device": b.device_name,
            "tag": b.tag, "delete_on_termination": b.delete_on_termination, "attachment_id": b.attachment_id,
            "bdm_uuid": b.id, "boot_index": b.boot_index}


def _next_device(used: set[str]) -> str:
    """The first free ``/dev/vdX`` after the root disk (what the libvirt driver names virtio disks)."""
    for letter in string.ascii_lowercase[1:]:
        device = f"/dev/vd{letter}"
        if device not in used:
            return device
    raise exceptions.BadRequest("The server has no free disk device name left (vdb to vdz are all in use).")


class VolumeAttachments:
    """``os-volume_attachments`` of the servers ``servers`` finds (its visibility rules apply)."""

    def __init__(self, servers: ServerCore, volumes: VolumeClient | None) -> None:
        self.servers = servers
        self.db = servers.db
        self.volumes = volumes

    def _client(self) -> VolumeClient:
        if self.volumes is None:
            raise exceptions.BadRequest("This cloud has no block storage service: volumes cannot be attached.")
        return self.volumes

    def list(self, ctx: RequestContext, server_id: str) -> list[dict[str, Any]]:
        """The server's attached volumes, oldest first (404 for a server the caller cannot see)."""
        self.servers.get(ctx, server_id)
        with self.db.reader() as s:
            return [_as_dict(b) for b in s.scalars(sa.select(BlockDeviceMapping).where(
                BlockDeviceMapping.instance_uuid == server_id).order_by(BlockDeviceMapping.created_at))]

    def attached_to(self, server_ids: builtins.list[str]) -> dict[str, builtins.list[dict[str, Any]]]:
        """Each server's attachments (as ``list`` gives them), for servers the caller has already been shown."""
        found: dict[str, builtins.list[dict[str, Any]]] = {uuid: [] for uuid in server_ids}
        if not server_ids:
            return found
        with self.db.reader() as s:
            for b in s.scalars(sa.select(BlockDeviceMapping).where(BlockDeviceMapping.instance_uuid.in_(server_ids))
                               .order_by(BlockDeviceMapping.created_at)):
                found[b.instance_uuid].append(_as_dict(b))
        return found

    def get(self, ctx: RequestContext, server_id: str, volume_id: str) -> dict[str, Any]:
        """One attached volume; 404 when it is not attached to this server."""
        for found in self.list(ctx, server_id):
            if found["volumeId"] == volume_id:
                return found
        raise exceptions.NotFound(f"Volume {volume_id} is not attached to server {server_id}.")

    def _usable(self, ctx: RequestContext, server_id: str, verb: str,
                shelved: bool = False) -> tuple[Instance, str | None]:
        """The server and its host (None for a shelved-offloaded one, when ``shelved`` allows it), once it may
        have a volume attached or detached now (else 409)."""
        inst, _ = self.servers.get(ctx, server_id)
        if inst.locked and not ctx.is_admin:
            raise exceptions.Conflict(f"Instance {server_id} is locked")
        if shelved and inst.vm_state == states.SHELVED_OFFLOADED and inst.task_state is None:
            return inst, None
        if inst.vm_state not in ATTACH_VM_STATES or inst.task_state is not None or not inst.host:
            raise exceptions.Conflict(f"Cannot '{verb}' instance {server_id} while it is in vm_state "
                                      f"{inst.vm_state}" + (f", task_state {inst.task_state}" if inst.task_state else ""))
        return inst, inst.host

    def attach(self, ctx: RequestContext, server_id: str, volume_id: str, tag: str | None,
               delete_on_termination: bool, shelved: bool = False) -> dict[str, Any]:
        """Attach ``volume_id`` to the running (or stopped) server, or with ``shelved`` (Nova's 2.20) record and
        reserve it for a shelved-offloaded one (``in-use``; connected at unshelve); returns the attachment as
        listed.

        :raises NotFound: the server or the volume (as the caller sees them).
        :raises BadRequest: the volume is already attached (to this or another server) or not available.
        :raises Conflict: the server is locked, busy or in a state without a guest.
        """
        volumes = self._client()
        inst, host = self._usable(ctx, server_id, "attach_volume", shelved)
        if host is not None:
            self.servers.agents.check_can_send("attach_volume")  # 409 before any change while computes are capped
        with self.db.writer() as s:
            s.get(Instance, server_id, with_for_update=True)  # one device choice at a time per server
            mapped = list(s.scalars(sa.select(BlockDeviceMapping).where(BlockDeviceMapping.instance_uuid == server_id)))
            if any(b.volume_id == volume_id for b in mapped):
                raise exceptions.BadRequest(f"Invalid volume: volume {volume_id} is already attached to server "
                                            f"{server_id}.")
            bdm = BlockDeviceMapping(id=types.new_uuid(), instance_uuid=server_id, volume_id=volume_id,
                                     device_name=_next_device({ROOT_DEVICE} | {b.device_name for b in mapped}),
                                     delete_on_termination=delete_on_termination, tag=tag)
            s.add(bdm)
            bdm_id, device = bdm.id, bdm.device_name
        attachment_id = None
        try:
            if host is None:  # offloaded: reserved now, exported for the host that unshelves it
                attachment_id = volumes.create_attachment(ctx, volume_id, server_id, None)["id"]
                with self.db.writer() as s:
                    _mapping(s, bdm_id).attachment_id = attachment_id
                volumes.complete_attachment(ctx, attachment_id)
                with self.db.reader() as s:
                    return _as_dict(_mapping(s, bdm_id))
            attachment = volumes.create_attachment(ctx, volume_id, server_id, {
                "host": host, "instance": server_id, "mountpoint": device, "multipath": False})
            attachment_id = attachment["id"]
            connection_info = attachment.get("connection_info") or {}
            with self.db.writer() as s:
                row = _mapping(s, bdm_id)
                row.attachment_id, row.connection_info = attachment_id, connection_info
            used = self.servers.agents.attach_volume(ctx, host, server_id, connection_info, device)
            if used != device:  # the guest's own disks (ephemeral, swap, config drive) took that name
                with self.db.writer() as s:
                    _mapping(s, bdm_id).device_name = used
            volumes.complete_attachment(ctx, attachment_id)
        except Exception:
            self._undo(ctx, bdm_id, attachment_id)
            raise
        with self.db.reader() as s:
            return _as_dict(_mapping(s, bdm_id))

    def _undo(self, ctx: RequestContext, bdm_id: str, attachment_id: str | None) -> None:
        if attachment_id is not None:
            try:
                self._client().delete_attachment(ctx, attachment_id)
            except exceptions.NubisError as e:
                LOG.error("Could not delete attachment %s after a failed attach: %s", attachment_id, e)
        with self.db.writer() as s:
            s.execute(sa.delete(BlockDeviceMapping).where(BlockDeviceMapping.id == bdm_id))

    def detach(self, ctx: RequestContext, server_id: str, volume_id: str, shelved: bool = False) -> None:
        """Unplug the volume from the guest (none for a shelved-offloaded server, with ``shelved``), then give it
        back to the volume service (``available``).

        :raises NotFound: the server, or the volume is not attached to it.
        :raises Conflict: the server is locked, busy or in a state without a guest.
        """
        inst, host = self._usable(ctx, server_id, "detach_volume", shelved)
        found = self.get(ctx, server_id, volume_id)
        if found["boot_index"] == 0:  # Nova: a volume-backed server's root volume cannot be detached
            raise exceptions.BadRequest(f"Invalid volume: volume {volume_id} is the root volume of server "
                                        f"{server_id} and cannot be detached.")
        if host is not None:  # an offloaded server has no guest to unplug it from
            self.servers.agents.check_can_send("detach_volume")
            self.servers.agents.detach_volume(ctx, host, server_id, found["device"])
        if found["attachment_id"]:
            self._client().delete_attachment(ctx, found["attachment_id"])
        with self.db.writer() as s:
            s.execute(sa.delete(BlockDeviceMapping).where(BlockDeviceMapping.id == found["bdm_uuid"]))

    def update(self, ctx: RequestContext, server_id: str, volume_id: str, changes: dict[str, Any]) -> None:
        """Nova's 2.85 update of an attachment: ``delete_on_termination`` may change; ``device``, ``tag``,
        ``serverId`` and ``id`` may be given only as they are.

        :raises NotFound: the server, or the volume is not attached to it.
        :raises BadRequest: another field would change.
        """
        found = self.get(ctx, server_id, volume_id)
        for key, shown in (("device", found["device"]), ("tag", found["tag"]), ("serverId", server_id),
                           ("id", volume_id)):
            if key in changes and changes[key] != shown:
                raise exceptions.BadRequest(f"The attachment's {key} cannot be changed (it is {shown!r}); only "
                                            "delete_on_termination can.")
        if "delete_on_termination" in changes:
            flag = strutils.bool_from_string(changes["delete_on_termination"], strict=True)
            with self.db.writer() as s:
                row = s.get(BlockDeviceMapping, found["bdm_uuid"])
                if row is None:
                    raise exceptions.NotFound(f"Volume {volume_id} is not attached to server {server_id}.")
                row.delete_on_termination = flag

    def swap(self, ctx: RequestContext, server_id: str, volume_id: str, new_volume_id: str) -> None:
        """Swap an attached volume for another: refused, as swapping is not built.

        :raises NotFound: the server, or ``volume_id`` is not attached to it (Nova's answer too).
        :raises Conflict: otherwise (the cloud does not swap volumes).
        """
        self.get(ctx, server_id, volume_id)
        raise exceptions.Conflict(f"Cannot swap volume {volume_id} for {new_volume_id} on server {server_id}: "
                                  "swapping attached volumes is not supported by this cloud; detach one and "
                                  "attach the other.")

    def release_all(self, ctx: RequestContext, server_id: str) -> None:
        """A deleted server's volumes: each attachment deleted (the volume ``available``), and the volumes
        marked ``delete_on_termination`` deleted. A failure is logged and the rest go on: a server delete
        never fails on its volumes."""
        with self.db.writer() as s:
            mapped = [_as_dict(b) for b in s.scalars(sa.select(BlockDeviceMapping).where(
                BlockDeviceMapping.instance_uuid == server_id))]
            s.execute(sa.delete(BlockDeviceMapping).where(BlockDeviceMapping.instance_uuid == server_id))
        if not mapped or self.volumes is None:
            return
        for found in mapped:
            try:
                if found["attachment_id"]:
                    self.volumes.delete_attachment(ctx, found["attachment_id"])
                if found["delete_on_termination"]:
                    self.volumes.delete_volume(ctx, found["volumeId"])
            except exceptions.NubisError as e:
                LOG.error("Could not release volume %s of deleted server %s: %s", found["volumeId"], server_id, e)
