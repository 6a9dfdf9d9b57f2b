"""The volume core as the API sees it: one object holding each store, plus zones."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.common.policy import Policy
from nubis.volume.core import hosts
from nubis.volume.core.attachments import AttachmentStore
from nubis.volume.core.backups import BackupStore
from nubis.volume.core.groups import GroupSnapshotStore, GroupStore, GroupTypeStore
from nubis.volume.core.messages import MessageStore
from nubis.volume.core.qos import QosStore
from nubis.volume.core.quotas import QuotaStore
from nubis.volume.core.snapshots import SnapshotStore
from nubis.volume.core.transfers import TransferStore
from nubis.volume.core.types import TypeStore
from nubis.volume.core.volumes import VolumeStore
from nubis.volume.db.models import Snapshot, Volume, VolumeService
from nubis.volume.manager.rpcapi import VolumeManagerAPI


class VolumeCore:
    """Everything the volume API's handlers call (``req.service``)."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, policy: Policy, manager: VolumeManagerAPI,
                 images: Any = None) -> None:
        self.conf = conf
        self.db = db
        self.policy = policy
        self.quotas = QuotaStore(conf, db)
        self.types = TypeStore(conf, db)
        self.qos_specs = QosStore(db)
        self.volumes = VolumeStore(conf, db, self.types, self.quotas, manager, images)
        self.snapshots = SnapshotStore(conf, db, self.quotas, manager)
        self.attachments = AttachmentStore(db, manager)
        self.messages = MessageStore(db)
        self.backups = BackupStore(conf, db, self.quotas, self.types, manager)
        self.transfers = TransferStore(conf, db, self.quotas)
        self.group_types = GroupTypeStore(conf, db)
        self.groups = GroupStore(conf, db, self.group_types, self.types, self.quotas, self.volumes, manager)
        self.group_snapshots = GroupSnapshotStore(conf, db, self.quotas, manager)

    def services(self) -> list[dict[str, Any]]:
        """Each storage host's manager as Cinder's ``os-services`` shows a ``cinder-volume``."""
        with self.db.reader() as s:
            return [{"binary": "cinder-volume", "host": f"{h.host}@{h.backend}", "zone": h.availability_zone,
                     "status": "disabled" if h.disabled else "enabled",
                     "state": "up" if hosts.alive(self.conf, h) else "down", "updated_at": h.updated_at,
                     "disabled_reason": h.disabled_reason}
                    for h in s.scalars(sa.select(VolumeService).order_by(VolumeService.host))]

    @staticmethod
    def _service(s: Any, host: str) -> VolumeService | None:
        """The storage host's row named as Cinder names a service: ``host``, ``host@backend`` or
        ``host@backend#pool``."""
        name, _, rest = host.partition("@")
        row = s.get(VolumeService, name)
        if row is None or (rest and rest.partition("#")[0] != row.backend):
            return None
        return row  # type: ignore[no-any-return]

    def set_service(self, host: str, binary: str, disabled: bool, reason: str | None) -> dict[str, Any]:
        """Enable or disable a storage host's ``cinder-volume`` (a disabled one is given no new volumes);
        404 for a service there is not."""
        with self.db.writer() as s:
            row = self._service(s, host) if binary == "cinder-volume" else None
            if row is None:
                raise exceptions.NotFound(f"Service {binary} on host {host} could not be found.")
            row.disabled, row.disabled_reason = disabled, reason if disabled else None
            return {"host": f"{row.host}@{row.backend}", "binary": binary, "disabled": disabled,
                    "status": "disabled" if disabled else "enabled", "disabled_reason": row.disabled_reason}

    def freeze(self, host: str, frozen: bool) -> None:
        """Cinder's freeze/thaw of a replicated backend: 400 for a host with no volume service, and for the
        others too, since no backend here replicates (there is nothing to freeze or thaw)."""
        with self.db.reader() as s:
            if self._service(s, host) is None:
                raise exceptions.BadRequest(f"Invalid input received: no volume service on host {host}.")
        raise exceptions.BadRequest(f"Invalid input received: the backend of host {host} has no replication "
                                    f"to {'freeze' if frozen else 'thaw'}.")

    def host_usage(self, host: str) -> list[dict[str, Any]]:
        """Cinder's ``os-hosts/{host}``: volumes and snapshots on the host, in total (``project`` "(total)")
        and per project. 404 unless the host has an enabled volume service."""
        with self.db.reader() as s:
            row = self._service(s, host)
            if row is None or row.disabled:
                raise exceptions.NotFound(f"Host {host} has no enabled volume service.")
            per: dict[str, dict[str, int]] = {}
            for project, count, gigs in s.execute(
                    sa.select(Volume.project_id, sa.func.count(), sa.func.coalesce(sa.func.sum(Volume.size), 0))
                    .where(Volume.host == row.host).group_by(Volume.project_id)):
                per.setdefault(project, {"volume_count": 0, "total_volume_gb": 0, "snapshot_count": 0,
                                         "total_snapshot_gb": 0}).update(volume_count=int(count),
                                                                         total_volume_gb=int(gigs))
            for project, count, gigs in s.execute(
                    sa.select(Snapshot.project_id, sa.func.count(), sa.func.coalesce(sa.func.sum(Snapshot.size), 0))
                    .where(Snapshot.host == row.host).group_by(Snapshot.project_id)):
                per.setdefault(project, {"volume_count": 0, "total_volume_gb": 0, "snapshot_count": 0,
                                         "total_snapshot_gb": 0}).update(snapshot_count=int(count),
                                                                         total_snapshot_gb=int(gigs))
            total = {k: sum(p[k] for p in per.values()) for k in
                     ("volume_count", "total_volume_gb", "snapshot_count", "total_snapshot_gb")}
            name = f"{row.host}@{row.backend}"
            return [{"project": "(total)", "host": name, **total},
                    *({"project": project, "host": name, **usage} for project, usage in sorted(per.items()))]

    def pools(self) -> list[dict[str, Any]]:
        """Cinder's scheduler pools: one per storage host (``host@backend#backend``), with its capabilities."""
        with self.db.reader() as s:
            out = []
            for h in s.scalars(sa.select(VolumeService).order_by(VolumeService.host)):
                allocated = hosts.allocated_gb(s, h.host)
                out.append({"name": f"{h.host}@{h.backend}#{h.backend}", "capabilities": {
                    **hosts.capabilities(h), "total_capacity_gb": h.total_capacity_gb,
                    "free_capacity_gb": max(h.total_capacity_gb - allocated, 0),
                    "allocated_capacity_gb": allocated, "provisioned_capacity_gb": allocated,
                    "max_over_subscription_ratio": str(h.max_over_subscription_ratio),
                    "reserved_percentage": 0, "thin_provisioning_support": True,
                    "thick_provisioning_support": False, "QoS_support": False, "multiattach": False,
                    "pool_name": h.backend, "timestamp": h.updated_at, "updated": h.updated_at}})
            return out

    def capabilities(self, host: str) -> dict[str, Any]:
        """Cinder's ``GET /capabilities/{host}``: what the host's backend offers; 404 for no such host."""
        with self.db.reader() as s:
            row = self._service(s, host)
            if row is None:
                raise exceptions.NotFound(f"Service {host} could not be found.")
            caps = hosts.capabilities(row)
        return {**caps, "namespace": f"OS::Storage::Capabilities::{host}", "pool_name": None,
                "description": None, "display_name": None, "visibility": None, "replication_targets": [],
                "properties": {
                    "thin_provisioning": {"title": "Thin Provisioning", "type": "boolean",
                                          "description": "Sets thin provisioning."}}}

    def zones(self) -> list[dict[str, Any]]:
        """Cinder's ``availabilityZoneInfo``: each zone a manager reported, and whether one is up."""
        with self.db.reader() as s:
            return [{"zoneName": z, "zoneState": {"available": up}} for z, up in sorted(hosts.zones(self.conf, s).items())]
