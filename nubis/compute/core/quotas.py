"""Quota limits (config defaults, the default quota class, per-project overrides) and usage counted live.

Usage is never stored: it is counted from the instances, keypairs and server
groups that exist, so it cannot drift. Boots check it under a per-project row
lock (see ``ServerCore``), which is what makes the check atomic.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.compute.db.models import Instance, KeyPair, Quota, ServerGroup

RESOURCES = ("instances", "cores", "ram", "key_pairs", "metadata_items", "server_groups", "server_group_members")
# Resources Nova still stores and shows for old microversions but no longer enforces (nova-network's, file
# injection's): a value set is kept and shown back, never checked against usage.
LEGACY_RESOURCES = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes", "floating_ips",
                    "fixed_ips", "security_groups", "security_group_rules")
DEFAULT_CLASS = "class:default"


class QuotaStore:
    def __init__(self, conf: cfg.ConfigOpts, db: Database) -> None:
        self.conf = conf
        self.db = db

    def _overrides(self, s: Any, owner: str | None) -> dict[str, int]:
        return dict(s.execute(sa.select(Quota.resource, Quota.hard_limit).where(Quota.owner == owner)).all())

    def defaults(self) -> dict[str, int]:
        with self.db.reader() as s:
            return {r: getattr(self.conf.quota, r) for r in RESOURCES} | self._overrides(s, DEFAULT_CLASS)

    def limits(self, project_id: str | None, s: Any = None) -> dict[str, int]:
        if s is None:
            with self.db.reader() as s:
                return self.limits(project_id, s)
        defaults = {r: getattr(self.conf.quota, r) for r in RESOURCES} | self._overrides(s, DEFAULT_CLASS)
        return defaults | self._overrides(s, project_id)

    def usage(self, project_id: str | None, user_id: str | None) -> dict[str, int]:
        with self.db.reader() as s:
            count, cores, ram = s.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Instance.vcpus), 0),
                          sa.func.coalesce(sa.func.sum(Instance.memory_mb), 0))
                .where(Instance.project_id == project_id, Instance.deleted.is_(False))).one()
            groups = s.scalar(sa.select(sa.func.count()).select_from(ServerGroup)
                              .where(ServerGroup.project_id == project_id)) or 0
            keys = s.scalar(sa.select(sa.func.count()).select_from(KeyPair)
                            .where(KeyPair.user_id == user_id)) if user_id else 0
        return {"instances": int(count), "cores": int(cores), "ram": int(ram), "key_pairs": int(keys or 0),
                "metadata_items": 0, "server_groups": int(groups), "server_group_members": 0}

    def update(self, owner: str, values: dict[str, int], force: bool, usage: dict[str, int] | None) -> None:
        """Set limits (-1: unlimited) for ``owner`` (a project or ``DEFAULT_CLASS``).

        ``values`` maps names of ``RESOURCES`` to integers the API checked. With
        ``usage`` given, a limit below what is in use is refused (400) unless ``force``.
        """
        unknown = set(values) - set(RESOURCES) - set(LEGACY_RESOURCES)
        if unknown:
            raise exceptions.BadRequest(f"Bad key(s) {', '.join(sorted(unknown))} in quota_set; known: "
                                        f"{', '.join(RESOURCES)}.")
        for name, value in values.items():
            if usage is not None and not force and 0 <= value < usage.get(name, 0):
                raise exceptions.BadRequest(f"Quota limit {value} for {name} must be greater than or equal to "
                                            f"already used and reserved {usage[name]}.")
        with self.db.writer() as s:
            for name, value in values.items():
                row = s.get(Quota, (owner, name))
                if row is None:
                    s.add(Quota(owner=owner, resource=name, hard_limit=value))
                else:
                    row.hard_limit = value

    def reset(self, owner: str) -> None:
        with self.db.writer() as s:
            s.execute(sa.delete(Quota).where(Quota.owner == owner))
