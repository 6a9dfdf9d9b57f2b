"""Boot from volume, the conductor's half: wait for the root volumes made for a boot, connect them for the
chosen host, or give everything back when the boot fails.

The API recorded each volume-backed server's root mapping (``block_device_mappings``, boot_index 0) after making
or reserving its volume as the caller; the conductor goes on as that caller (the request's context travels
with the message): it waits for a made volume to become ``available`` (``[compute]
block_device_allocate_retries`` checks, ``block_device_allocate_retries_interval`` apart, as Nova), then gives
the attachment the chosen host's connector (the volume service exports the volume for it) and completes it
(``in-use``). A failure before the guest is built deletes the attachment, the volumes made for the boot, and the
mapping: nothing is left reserved.
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
    """A root volume did not become usable (it ended in error, or was still being made after the retries)."""


@dataclasses.dataclass(frozen=True)
class RootMapping:
    """A volume-backed server's root mapping, as recorded by the API."""

    id: str
    instance_uuid: str
    volume_id: str
    attachment_id: str | None
    source_type: str | None
    delete_on_termination: bool

    @property
    def made_for_boot(self) -> bool:
        return self.source_type in boot_volumes.SOURCES_MADE


class BootVolumeConnector:
    """The conductor's use of the volume service for a boot (as the boot's caller)."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, volumes: VolumeClient | None) -> None:
        self.conf = conf
        self.db = db
        self.volumes = volumes

    def root(self, uuid: str) -> RootMapping | None:
        """The server's root volume mapping; None for a server booted from an image."""
        with self.db.reader() as s:
            b = s.scalar(sa.select(BlockDeviceMapping).where(BlockDeviceMapping.instance_uuid == uuid,
                                                             BlockDeviceMapping.boot_index == 0))
            if b is None:
                return None
            return RootMapping(b.id, b.instance_uuid, b.volume_id, b.attachment_id, b.source_type,
                               b.delete_on_termination)

    def _client(self) -> VolumeClient:
        if self.volumes is None:
            raise VolumeNotReady("this conductor has no block storage service to reach the root volume through")
        return self.volumes

    def wait(self, ctx: RequestContext, root: RootMapping, touch: Callable[[], None] | None = None) -> None:
        """Until a volume made for the boot is ``available``.

        :raises VolumeNotReady: it ended in another state (``error``), or was still being made after the
            retries; the message names the volume.
        """
        if not root.made_for_boot:
            return
        retries = self.conf.compute.block_device_allocate_retries
        interval = self.conf.compute.block_device_allocate_retries_interval
        try:
            volume = boot_volumes.wait_settled(self._client(), ctx, root.volume_id, retries, interval, touch)
        except exceptions.NubisError as exc:
            raise VolumeNotReady(f"Volume {root.volume_id} could not be read: {exc}") from exc
        if volume["status"] != "available":
            raise VolumeNotReady(
                f"Volume {root.volume_id} did not finish being created even after we waited "
                f"{retries * interval} seconds or {retries + 1} attempts. And its status is {volume['status']}.")

    def connect(self, ctx: RequestContext, root: RootMapping, host: str) -> dict[str, Any]:
        """Export the root volume for ``host`` and mark it ``in-use``; the ``block_device_info`` for the agent.

        :raises NubisError: the volume service refused or failed (the attachment made here is recorded on the
            mapping, so ``release`` deletes it).
        """
        volumes = self._client()
        connector = {"host": host, "instance": root.instance_uuid, "mountpoint": boot_volumes.ROOT_DEVICE,
                     "multipath": False}
        if root.attachment_id:
            attachment = volumes.update_attachment(ctx, root.attachment_id, connector)
        else:
            attachment = volumes.create_attachment(ctx, root.volume_id, root.instance_uuid, connector)
        connection_info = attachment.get("connection_info") or {}
        with self.db.writer() as s:
            row = s.get(BlockDeviceMapping, root.id)
            if row is None:
                raise exceptions.NotFound(f"Instance {root.instance_uuid} was deleted while its root volume was "
                                          "being connected.")
            row.attachment_id, row.connection_info = attachment["id"], connection_info
        volumes.complete_attachment(ctx, attachment["id"])
        return {"root_device_name": boot_volumes.ROOT_DEVICE, "block_device_mapping": [{
            "connection_info": connection_info, "mount_device": boot_volumes.ROOT_DEVICE, "boot_index": 0,
            "delete_on_termination": root.delete_on_termination, "volume_id": root.volume_id}]}

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

    def release(self, ctx: RequestContext, root: RootMapping, deleted: bool = False) -> None:
        """A failed boot gives its root volume back: the attachment deleted (an existing volume ``available``
        again), a volume made for the boot deleted, the mapping removed. For a server deleted meanwhile
        (``deleted``) the made volume goes only with ``delete_on_termination``, as its delete would have done.
        Failures are logged: the build's own failure is the one to report."""
        with self.db.writer() as s:
            row = s.get(BlockDeviceMapping, root.id)
            attachment_id = row.attachment_id if row is not None else root.attachment_id
            s.execute(sa.delete(BlockDeviceMapping).where(BlockDeviceMapping.id == root.id))
        if self.volumes is None:
            return
        try:
            if attachment_id:
                self.volumes.delete_attachment(ctx, attachment_id)
            if root.made_for_boot and (root.delete_on_termination or not deleted):
                boot_volumes.delete_made(self.volumes, ctx, root.volume_id,
                                         self.conf.compute.block_device_allocate_retries,
                                         self.conf.compute.block_device_allocate_retries_interval)
        except exceptions.NubisError as exc:
            LOG.error("Could not give back root volume %s of instance %s: %s", root.volume_id, root.instance_uuid,
                      exc)
