"""The volume manager's RPC interface (topic ``volume``, one server per storage host).

Version history:
  1.0 - create_volume, delete_volume, extend_volume, create_snapshot, delete_snapshot
  1.1 - initialize_connection (call: export for a compute), terminate_connection (cast)
  1.2 - upload_image (cast: write the volume's data to an image the API created)
  1.3 - create_backup, delete_backup, restore_backup (casts: the backup store of the storage host)
"""

from __future__ import annotations

from typing import Any, ClassVar

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext
from nubis.volume.manager.backends.base import BackendError

TOPIC = "volume"


class VolumeManagerAPI(rpc.RPCClient):
    """What the volume API asks of a storage host: casts (the manager records the outcome), but for
    ``initialize_connection``, a call whose answer is the export."""

    TOPIC = TOPIC
    VERSION = "1.3"
    SINCE: ClassVar[dict[str, str]] = {"initialize_connection": "1.1", "terminate_connection": "1.1",
                                       "upload_image": "1.2",
                                       "create_backup": "1.3", "delete_backup": "1.3", "restore_backup": "1.3"}

    def initialize_connection(self, ctxt: RequestContext, host: str, volume_id: str,
                              attachment_id: str | None) -> dict[str, Any]:
        """Export the volume for a compute; returns ``{"connection_info": {...}}`` or ``{"error": message}``."""
        self.check_can_send("initialize_connection")
        result: dict[str, Any] = self.prepare(server=host, version="1.1").call(
            ctxt, "initialize_connection", volume_id=volume_id, attachment_id=attachment_id)
        return result

    def terminate_connection(self, ctxt: RequestContext, host: str, volume_id: str) -> None:
        """Remove the volume's export once no attachment connects to it any more."""
        self.check_can_send("terminate_connection")
        self.prepare(server=host, version="1.1").cast(ctxt, "terminate_connection", volume_id=volume_id)

    def upload_image(self, ctxt: RequestContext, host: str, volume_id: str, image_id: str, disk_format: str) -> None:
        """Write the volume's data as ``disk_format`` to the queued image ``image_id`` (status uploading → back
        to available or in-use). Callers run ``check_can_send("upload_image")`` before changing any state."""
        self.prepare(server=host, version="1.2").cast(ctxt, "upload_image", volume_id=volume_id, image_id=image_id,
                                                      disk_format=disk_format)

    def create_volume(self, ctxt: RequestContext, host: str, volume_id: str) -> None:
        """Make the volume's storage (empty, or from its ``snapshot_id``); status creating → available/error."""
        self.prepare(server=host, version="1.0").cast(ctxt, "create_volume", volume_id=volume_id)

    def delete_volume(self, ctxt: RequestContext, host: str, volume_id: str) -> None:
        """Remove the storage and the record (status deleting; error_deleting when the backend fails)."""
        self.prepare(server=host, version="1.0").cast(ctxt, "delete_volume", volume_id=volume_id)

    def extend_volume(self, ctxt: RequestContext, host: str, volume_id: str, new_size: int) -> None:
        """Grow the storage to ``new_size`` GiB (status extending → available, error_extending on failure)."""
        self.prepare(server=host, version="1.0").cast(ctxt, "extend_volume", volume_id=volume_id,
                                                      new_size=new_size)

    def create_snapshot(self, ctxt: RequestContext, host: str, snapshot_id: str) -> None:
        self.prepare(server=host, version="1.0").cast(ctxt, "create_snapshot", snapshot_id=snapshot_id)

    def delete_snapshot(self, ctxt: RequestContext, host: str, snapshot_id: str) -> None:
        self.prepare(server=host, version="1.0").cast(ctxt, "delete_snapshot", snapshot_id=snapshot_id)

    def create_backup(self, ctxt: RequestContext, host: str, backup_id: str) -> None:
        """Copy the backup's volume (or snapshot) into the host's backup store (creating → available/error)."""
        self.check_can_send("create_backup")
        self.prepare(server=host, version="1.3").cast(ctxt, "create_backup", backup_id=backup_id)

    def delete_backup(self, ctxt: RequestContext, host: str, backup_id: str) -> None:
        """Remove the backup's data and record (deleting; error_deleting when the store fails)."""
        self.check_can_send("delete_backup")
        self.prepare(server=host, version="1.3").cast(ctxt, "delete_backup", backup_id=backup_id)

    def restore_backup(self, ctxt: RequestContext, host: str, backup_id: str, volume_id: str) -> None:
        """Write the backup to the volume (restoring-backup → available, error_restoring on failure)."""
        self.check_can_send("restore_backup")
        self.prepare(server=host, version="1.3").cast(ctxt, "restore_backup", backup_id=backup_id,
                                                      volume_id=volume_id)


class VolumeManagerEndpoint:
    """The RPC server side: hands each message to the manager."""

    target = oslo_messaging.Target(version="1.3")

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def create_volume(self, ctxt: RequestContext, volume_id: str) -> None:
        self.manager.create_volume(volume_id)

    def delete_volume(self, ctxt: RequestContext, volume_id: str) -> None:
        self.manager.delete_volume(volume_id)

    def extend_volume(self, ctxt: RequestContext, volume_id: str, new_size: int) -> None:
        self.manager.extend_volume(volume_id, new_size)

    def create_snapshot(self, ctxt: RequestContext, snapshot_id: str) -> None:
        self.manager.create_snapshot(snapshot_id)

    def delete_snapshot(self, ctxt: RequestContext, snapshot_id: str) -> None:
        self.manager.delete_snapshot(snapshot_id)

    def initialize_connection(self, ctxt: RequestContext, volume_id: str,
                              attachment_id: str | None) -> dict[str, Any]:
        # A backend's refusal is an answer, not a remote traceback: the API turns it into a fault.
        try:
            return {"connection_info": self.manager.initialize_connection(volume_id, attachment_id)}
        except BackendError as e:
            return {"error": str(e)}

    def terminate_connection(self, ctxt: RequestContext, volume_id: str) -> None:
        self.manager.terminate_connection(volume_id)

    def upload_image(self, ctxt: RequestContext, volume_id: str, image_id: str, disk_format: str) -> None:
        self.manager.upload_image(volume_id, image_id, disk_format)
    def create_backup(self, ctxt: RequestContext, backup_id: str) -> None:
        self.manager.create_backup(backup_id)

    def delete_backup(self, ctxt: RequestContext, backup_id: str) -> None:
        self.manager.delete_backup(backup_id)

    def restore_backup(self, ctxt: RequestContext, backup_id: str, volume_id: str) -> None:
        self.manager.restore_backup(backup_id, volume_id)
