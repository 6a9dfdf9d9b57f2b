"""The volume manager's RPC interface (topic ``volume``, one server per storage host).

Version history:
  1.0 - create_volume, delete_volume, extend_volume, create_snapshot, delete_snapshot
"""

from __future__ import annotations

from typing import Any

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext

TOPIC = "volume"


class VolumeManagerAPI(rpc.RPCClient):
    """What the volume API asks of a storage host; every call is a cast (the manager records the outcome)."""

    TOPIC = TOPIC
    VERSION = "1.0"

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


class VolumeManagerEndpoint:
    """The RPC server side: hands each message to the manager."""

    target = oslo_messaging.Target(version="1.0")

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
