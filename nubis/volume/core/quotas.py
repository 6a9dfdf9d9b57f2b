"""Volume quotas (Cinder's ``volumes``, ``gigabytes``, ``snapshots``, ``backups``, ``backup_gigabytes``,
``groups``): config defaults, the default class, per-project overrides, and usage counted live from the volumes,
snapshots, backups and groups that exist.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.volume.db.models import Backup, ProjectLock, Quota, Snapshot, Volume, VolumeGroup, VolumeType

RESOURCES = ("volumes", "gigabytes", "snapshots", "backups", "backup_gigabytes", "groups")
# Cinder's per-volume-type quotas: ``<resource>_<type name>`` for each of these and every volume type, -1 (none)
# unless the default class or the project sets them, counted from the rows of that type.
TYPED = ("volumes", "gigabytes", "snapshots")
DEFAULT_CLASS = "class:default"
# A limit on each volume's size (GiB, -1: none but [volume] max_volume_size_gb), not a count: set like the others,
# checked by creates and extends (``check_volume_size``).
PER_VOLUME = "per_volume_gigabytes"


class QuotaStore:
    """Limits and usage per project. Limits are integers, -1 meaning unlimited."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database) -> None:
        self.conf = conf
        self.db = db

    def _configured(self) -> dict[str, int]:
        return {r: getattr(self.conf.volume, f"quota_{r}") for r in RESOURCES}

    @staticmethod
    def _overrides(s: Any, owner: str) -> dict[str, int]:
        return dict(s.execute(sa.select(Quota.resource, Quota.hard_limit).where(Quota.owner == owner)).all())

    @staticmethod
    def type_name(s: Any, type_id: str | None) -> str | None:
        """The name of volume type ``type_id`` (None when it is gone): whose per-type quotas a row counts in."""
        return s.scalar(sa.select(VolumeType.name).where(VolumeType.id == type_id)) if type_id else None

    @classmethod
    def typed_wanted(cls, s: Any, resource: str, rows: list[tuple[str | None, int]]) -> dict[str, int]:
        """Per-type quotas for several new rows of ``resource`` (volumes or snapshots), each given as its
        (volume type id, GiB): ``<resource>_<type>`` and ``gigabytes_<type>`` summed per type."""
        wanted: dict[str, int] = {}
        for type_id, size in rows:
            name = cls.type_name(s, type_id)
            if name is not None:
                wanted[f"{resource}_{name}"] = wanted.get(f"{resource}_{name}", 0) + 1
                wanted[f"gigabytes_{name}"] = wanted.get(f"gigabytes_{name}", 0) + size
        return wanted

    @staticmethod
    def type_names(s: Any) -> list[str]:
        """The names of the volume types there are (each has its ``TYPED`` quotas)."""
        return list(s.scalars(sa.select(VolumeType.name).order_by(VolumeType.name)))

    @classmethod
    def typed_keys(cls, s: Any) -> list[str]:
        """``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>`` for every volume type, in that order."""
        return [f"{r}_{name}" for name in cls.type_names(s) for r in TYPED]

    def known_typed(self) -> set[str]:
        """The per-type quota keys of the volume types there are now."""
        with self.db.reader() as s:
            return set(self.typed_keys(s))

    def _base(self, s: Any) -> dict[str, int]:
        return self._configured() | dict.fromkeys(self.typed_keys(s), -1)

    def defaults(self) -> dict[str, int]:
        """The default class's limits, the per-type ones included."""
        with self.db.reader() as s:
            return self._base(s) | self._overrides(s, DEFAULT_CLASS)

    def limits(self, project_id: str, s: Any = None) -> dict[str, int]:
        """The project's limits (its own, else the default class's, else the configured ones), per-type included.

        Rows for a type that no longer exists (or was renamed) are kept but not shown."""
        if s is None:
            with self.db.reader() as s:
                return self.limits(project_id, s)
        base = self._base(s)
        found = base | self._overrides(s, DEFAULT_CLASS) | self._overrides(s, project_id)
        return {k: v for k, v in found.items() if k in base or k == PER_VOLUME}

    @staticmethod
    def usage(project_id: str, s: Any) -> dict[str, int]:
        """What the project holds now: volume and snapshot counts and the GiB of both, backups and their GiB,
        groups (as Cinder counts)."""
        count, gigs = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Volume.size), 0))
                                .where(Volume.project_id == project_id)).one()
        snaps, snap_gigs = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Snapshot.size), 0))
                                     .where(Snapshot.project_id == project_id)).one()
        backups, backup_gigs = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Backup.size), 0))
                                         .where(Backup.project_id == project_id)).one()
        groups = s.scalar(sa.select(sa.func.count()).select_from(VolumeGroup)
                          .where(VolumeGroup.project_id == project_id))
        used = {"volumes": int(count), "gigabytes": int(gigs) + int(snap_gigs), "snapshots": int(snaps),
                "backups": int(backups), "backup_gigabytes": int(backup_gigs), "groups": int(groups or 0)}
        return used | QuotaStore.typed_usage(project_id, s)

    @classmethod
    def typed_usage(cls, project_id: str, s: Any) -> dict[str, int]:
        """Per volume type: its volumes, their GiB plus those of their snapshots, and those snapshots (a
        snapshot counts against its volume's type, as Cinder)."""
        used = dict.fromkeys(cls.typed_keys(s), 0)
        vols = s.execute(sa.select(VolumeType.name, sa.func.count(), sa.func.coalesce(sa.func.sum(Volume.size), 0))
                         .join(VolumeType, VolumeType.id == Volume.volume_type_id)
                         .where(Volume.project_id == project_id).group_by(VolumeType.name)).all()
        for name, n, gigs in vols:
            used[f"volumes_{name}"] = int(n)
            used[f"gigabytes_{name}"] = int(gigs)
        snaps = s.execute(sa.select(VolumeType.name, sa.func.count(), sa.func.coalesce(sa.func.sum(Snapshot.size), 0))
                          .join(Volume, Volume.id == Snapshot.volume_id)
                          .join(VolumeType, VolumeType.id == Volume.volume_type_id)
                          .where(Snapshot.project_id == project_id).group_by(VolumeType.name)).all()
        for name, n, gigs in snaps:
            used[f"snapshots_{name}"] = int(n)
            used[f"gigabytes_{name}"] = used.get(f"gigabytes_{name}", 0) + int(gigs)
        return used

    def usage_of(self, project_id: str) -> dict[str, int]:
        with self.db.reader() as s:
            return self.usage(project_id, s)

    def ensure_lock(self, project_id: str) -> None:
        """Create the project's lock row once, in a transaction of its own (a concurrent first create may
        make it first, which is fine); ``check`` then only locks it."""
        try:
            with self.db.writer() as s:
                if s.get(ProjectLock, project_id) is None:
                    s.add(ProjectLock(project_id=project_id))
        except sa.exc.IntegrityError:
            pass

    def check(self, s: Any, project_id: str, wanted: dict[str, int], type_name: str | None = None) -> None:
        """Lock the project's row, then 413 unless ``wanted`` more of each resource fit its limits.

        With ``type_name`` the ``TYPED`` resources in ``wanted`` are also checked against that type's quotas
        (``volumes_<type>`` ...); ``wanted`` may name per-type resources itself too. Called inside the
        transaction that inserts the new rows, so the count and the insert are one step; ``ensure_lock`` must
        have run before that transaction.
        """
        if type_name is not None:
            wanted = wanted | {f"{r}_{type_name}": n for r, n in wanted.items() if r in TYPED}
        if s.get(ProjectLock, project_id, with_for_update=True) is None:
            s.add(ProjectLock(project_id=project_id))
            s.flush()
            s.get(ProjectLock, project_id, with_for_update=True)
        limits, used = self.limits(project_id, s), self.usage(project_id, s)
        over = [(r, n, used.get(r, 0), limits.get(r, -1)) for r, n in wanted.items()
                if n and 0 <= limits.get(r, -1) < used.get(r, 0) + n]
        if over:
            detail = ", ".join(f"{r} (requested {n}, in use {u}, limit {lim})" for r, n, u, lim in over)
            raise exceptions.RequestEntityTooLarge(f"VolumeLimitExceeded: maximum quota exceeded for {detail}.")

    def check_volume_size(self, s: Any, project_id: str, size_gb: int) -> None:
        """413 when ``size_gb`` is over the project's ``per_volume_gigabytes`` (Cinder's VolumeSizeExceedsLimit)."""
        limit = self.limits(project_id, s).get(PER_VOLUME, -1)
        if 0 <= limit < size_gb:
            raise exceptions.RequestEntityTooLarge(f"VolumeSizeExceedsLimit: Requested volume size {size_gb}G is "
                                                   f"larger than maximum allowed limit {limit}G.")

    def update(self, project_id: str, values: dict[str, int]) -> None:
        """Set the project's limits for the resources named in ``values`` (checked by the API)."""
        with self.db.writer() as s:
            for resource, limit in values.items():
                row = s.get(Quota, (project_id, resource))
                if row is None:
                    s.add(Quota(owner=project_id, resource=resource, hard_limit=limit))
                else:
                    row.hard_limit = limit

    def delete(self, project_id: str) -> None:
        """Back to the defaults."""
        with self.db.writer() as s:
            s.execute(sa.delete(Quota).where(Quota.owner == project_id))
