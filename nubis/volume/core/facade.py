"""The volume core as the API sees it: one object holding each store, plus zones."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common.db.engine import Database
from nubis.common.policy import Policy
from nubis.volume.core import hosts
from nubis.volume.core.attachments import AttachmentStore
from nubis.volume.core.backups import BackupStore
from nubis.volume.core.quotas import QuotaStore
from nubis.volume.core.snapshots import SnapshotStore
from nubis.volume.core.transfers import TransferStore
from nubis.volume.core.types import TypeStore
from nubis.volume.core.volumes import VolumeStore
from nubis.volume.db.models import VolumeService
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
        self.volumes = VolumeStore(conf, db, self.types, self.quotas, manager, images)
        self.snapshots = SnapshotStore(conf, db, self.quotas, manager)
        self.attachments = AttachmentStore(db, manager)
        self.backups = BackupStore(conf, db, self.quotas, self.types, manager)
        self.transfers = TransferStore(conf, db, self.quotas)

    def services(self) -> list[dict[str, Any]]:
        """Each storage host's manager as Cinder's ``os-services`` shows a ``cinder-volume``."""
        with self.db.reader() as s:
            return [{"binary": "cinder-volume", "host": f"{h.host}@{h.backend}", "zone": h.availability_zone,
                     "status": "disabled" if h.disabled else "enabled",
                     "state": "up" if hosts.alive(self.conf, h) else "down", "updated_at": h.updated_at,
                     "disabled_reason": None}
                    for h in s.scalars(sa.select(VolumeService).order_by(VolumeService.host))]

    def zones(self) -> list[dict[str, Any]]:
        """Cinder's ``availabilityZoneInfo``: each zone a manager reported, and whether one is up."""
        with self.db.reader() as s:
            return [{"zoneName": z, "zoneState": {"available": up}} for z, up in sorted(hosts.zones(self.conf, s).items())]
