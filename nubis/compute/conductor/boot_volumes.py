"""Volumes at boot, the conductor's half: wait for the volumes made for a boot, connect them for the chosen
host, or give everything back when the boot fails.

The API recorded each server's volume mappings (``block_device_mappings``: the root with boot_index 0 for a
volume-backed server, data volumes with their device names) after making or reserving the volumes as the
caller; the conductor goes on as that caller (the request's context travels with the message): it waits for each
made volume to become ``available`` (``[compute] block_device_allocate_retries`` checks,
``block_device_allocate_retries_interval`` apart, as Nova), then gives each attachment the chosen host's connector
(the volume service exports the volume for it) and completes it (``in-use``). A failure before the guest is built
deletes every attachment, the volumes made for the boot, and the mappings: nothing is left reserved.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.clients.volume import VolumeClient
from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.compute.core import boot_volumes
from nubis.compute.db.models import BlockDeviceMapping

LOG = logging.getLogger(__name__)


class VolumeNotReady(Exception):
    """A volume of the boot did not become usable (it ended in error, or was still being made after the
    retries), or could not be connected; the message names it."""


@dataclasses.dataclass(frozen=True)
class BootMapping:
    """One volume mapping of a server being built, as recorded by the API."""

    id: str
    instance_uuid: str
    volume_id: str
    attachment_id: str | None
    source_type: str | None
    delete_on_termination: bool
    boot_index: int | None = 0
    device_name: str = boot_volumes.ROOT_DEVICE

    @property
    def made_for_boot(self) -> bool:
        return self.source_type in boot_volumes.SOURCES_MADE

    @property
    def what(self) -> str:
        """How a fault names it: ``root volume <id>`` or ``volume <id> (/dev/vdb)``."""
        return f"root volume {self.volume_id}" if self.boot_index == 0 else \
            f"volume {self.volume_id} ({self.device_name})"


class BootVolumeConnector:
    """The conductor's use of the volume service for a boot (as the boot's caller)."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, volumes: VolumeClient | None) -> None:
        self.conf = conf
        self.db = db
        self.volumes = volumes

    def mappings(self, uuid: str) -> list[BootMapping]:
        """The volume mappings of a server being built, the root first; [] for an image-backed one without
        volumes."""
        with self.db.reader() as s:
            rows = s.scalars(sa.select(BlockDeviceMapping).where(BlockDeviceMapping.instance_uuid == uuid)
                             .order_by(BlockDeviceMapping.created_at))
            found = [BootMapping(b.id, b.instance_uuid, b.volume_id, b.attachment_id, b.source_type,
                                 b.delete_on_termination, b.boot_index, b.device_name or boot_volumes.ROOT_DEVICE)
                     for b in rows]
        return sorted(found, key=lambda m: m.boot_index != 0)

    def _client(self) -> VolumeClient:
        if self.volumes is None:
            raise VolumeNotReady("this conductor has no block storage service to reach the boot's volumes through")
        return self.volumes

    def wait(self, ctx: RequestContext, mapping: BootMapping, touch: Callable[[], None] | None = None) -> None:
        """Until a volume made for the boot is ``available``.

        :raises VolumeNotReady: it ended in another state (``error``), or was still being made after the
            retries; the message names the volume.
        """
        if not mapping.made_for_boot:
            return
        retries = self.conf.compute.block_device_allocate_retries
        interval = self.conf.compute.block_device_allocate_retries_interval
        try:
            volume = boot_volumes.wait_settled(self._client(), ctx, mapping.volume_id, retries, interval, touch)
        except exceptions.NubisError as exc:
            raise VolumeNotReady(f"Volume {mapping.volume_id} could not be read: {exc}") from exc
        if volume["status"] != "available":
            raise VolumeNotReady(
                f"Volume {mapping.volume_id} did not finish being created even after we waited "
                f"{retries * interval} seconds or {retries + 1} attempts. And its status is {volume['status']}.")

    def connect(self, ctx: RequestContext, mappings: list[BootMapping], host: str) -> dict[str, Any]:
        """Export each volume for ``host`` and mark it ``in-use``; the ``block_device_info`` for the agent (Nova's
        shape: the root with boot_index 0, the data volumes with their devices).

        :raises VolumeNotReady: the volume service refused or failed for one of them; the message names it (the
            attachments made here are recorded on the mappings, so ``release`` deletes them).
        """
        found = []
        for mapping in mappings:
            try:
                connection_info = self._connect(ctx, mapping, host)
            except Exception as exc:  # noqa: BLE001 - named for the fault; the caller gives everything back
                raise VolumeNotReady(f"{mapping.what} could not be connected: {exc}") from exc
            found.append({"connection_info": connection_info, "mount_device": mapping.device_name,
                          "boot_index": mapping.boot_index, "delete_on_termination": mapping.delete_on_termination,
                          "volume_id": mapping.volume_id})
        return {"root_device_name": boot_volumes.ROOT_DEVICE, "block_device_mapping": found}

    def _connect(self, ctx: RequestContext, mapping: BootMapping, host: str) -> dict[str, Any]:
        volumes = self._client()
        connector = {"host": host, "instance": mapping.instance_uuid, "mountpoint": mapping.device_name,
                     "multipath": False}
        if mapping.attachment_id:
            attachment = volumes.update_attachment(ctx, mapping.attachment_id, connector)
        else:
            attachment = volumes.create_attachment(ctx, mapping.volume_id, mapping.instance_uuid, connector)
        connection_info: dict[str, Any] = attachment.get("connection_info") or {}
        with self.db.writer() as s:
            row = s.get(BlockDeviceMapping, mapping.id)
            if row is None:
                raise exceptions.NotFound(f"Instance {mapping.instance_uuid} was deleted while its volume "
                                          f"{mapping.volume_id} was being connected.")
            row.attachment_id, row.connection_info = attachment["id"], connection_info
        volumes.complete_attachment(ctx, attachment["id"])
        return connection_info

    def data_volumes(self, ctx: RequestContext, uuid: str, host: str) -> list[dict[str, Any]]:
        """The server's other volumes (not its root) as ``block_device_mapping`` entries for a spawn on ``host``
        (an unshelve): a volume attached while the server was offloaded (reserved, no export yet) is exported for
        ``host`` here; one attached before keeps its export.

        :raises NubisError: the volume service refused an export (nothing is changed for that volume).
        """
        with self.db.reader() as s:
            mapped = [(b.id, b.volume_id, b.attachment_id, b.device_name, b.delete_on_termination, b.connection_info)
                      for b in s.scalars(sa.select(BlockDeviceMapping).where(
                          BlockDeviceMapping.instance_uuid == uuid,
                          sa.or_(BlockDeviceMapping.boot_index.is_(None), BlockDeviceMapping.boot_index != 0))
                          .order_by(BlockDeviceMapping.created_at))]
        found = []
        for bdm_id, volume_id, attachment_id, device, delete_on_termination, connection_info in mapped:
            if not connection_info and attachment_id:
                attachment = self._client().update_attachment(ctx, attachment_id, {
                    "host": host, "instance": uuid, "mountpoint": device, "multipath": False})
                connection_info = attachment.get("connection_info") or {}
                with self.db.writer() as s:
                    row = s.get(BlockDeviceMapping, bdm_id)
                    if row is not None:
                        row.connection_info = connection_info
                self._client().complete_attachment(ctx, attachment_id)
            if connection_info:
                found.append({"connection_info": connection_info, "mount_device": device, "boot_index": None,
                              "delete_on_termination": delete_on_termination, "volume_id": volume_id})
        return found

    def release(self, ctx: RequestContext, mappings: list[BootMapping], deleted: bool = False) -> None:
        """A failed boot gives its volumes back: each attachment deleted (an existing volume ``available`` again),
        each volume made for the boot deleted, the mappings removed. For a server deleted meanwhile (``deleted``)
        a made volume goes only with ``delete_on_termination``, as its delete would have done. Failures are
        logged: the build's own failure is the one to report."""
        for mapping in mappings:
            with self.db.writer() as s:
                row = s.get(BlockDeviceMapping, mapping.id)
                attachment_id = row.attachment_id if row is not None else mapping.attachment_id
                s.execute(sa.delete(BlockDeviceMapping).where(BlockDeviceMapping.id == mapping.id))
            if self.volumes is None:
                continue
            try:
                if attachment_id:
                    self.volumes.delete_attachment(ctx, attachment_id)
                if mapping.made_for_boot and (mapping.delete_on_termination or not deleted):
                    boot_volumes.delete_made(self.volumes, ctx, mapping.volume_id,
                                             self.conf.compute.block_device_allocate_retries,
                                             self.conf.compute.block_device_allocate_retries_interval)
            except exceptions.NubisError as exc:
                LOG.error("Could not give back volume %s of instance %s: %s", mapping.volume_id,
                          mapping.instance_uuid, exc)
