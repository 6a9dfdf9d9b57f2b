"""Per-project limits on how many of each resource a project may have."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from nubis.network.core import common, errors
from nubis.network.db import models

# resource name -> the model whose rows count against it.
COUNTED: dict[str, Any] = {
    "network": models.Network, "subnet": models.Subnet, "port": models.Port, "router": models.Router,
    "floatingip": models.FloatingIP, "security_group": models.SecurityGroup,
    "security_group_rule": models.SecurityGroupRule, "subnetpool": models.SubnetPool,
}


class Quotas:
    def __init__(self, conf: cfg.ConfigOpts, db: Any) -> None:
        self.conf = conf
        self.db = db

    def defaults(self) -> dict[str, int]:
        return {name: getattr(self.conf.quotas, f"quota_{name}") for name in COUNTED}

    def limits(self, s: orm.Session, project_id: str) -> dict[str, int]:
        out = self.defaults()
        for q in s.scalars(sa.select(models.Quota).where(models.Quota.project_id == project_id)):
            out[q.resource] = q.hard_limit
        return out

    def check(self, s: orm.Session, project_id: str, resource: str, adding: int = 1) -> None:
        """409 OverQuota when ``adding`` more would exceed the project's limit."""
        if not project_id:
            return  # resources the service owns itself (router gateways, floating IP ports)
        limit = self.limits(s, project_id)[resource]
        if limit < 0:
            return
        model = COUNTED[resource]
        used = s.scalar(sa.select(sa.func.count()).select_from(model).where(model.project_id == project_id)) or 0
        if used + adding > limit:
            raise errors.over_quota(resource, limit)

    # -- API (the handlers authorized get_quota / update_quota on the project) ----------------------
    def list(self) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            projects = sorted(set(s.scalars(sa.select(models.Quota.project_id))))
            return [{"project_id": p, "tenant_id": p, **self.limits(s, p)} for p in projects]

    def show(self, project_id: str) -> dict[str, int]:
        with self.db.reader() as s:
            return self.limits(s, project_id)

    def details(self, project_id: str) -> dict[str, dict[str, int]]:
        with self.db.reader() as s:
            limits = self.limits(s, project_id)
            out = {}
            for name, model in COUNTED.items():
                used = s.scalar(sa.select(sa.func.count()).select_from(model).where(model.project_id == project_id))
                out[name] = {"limit": limits[name], "used": used or 0, "reserved": 0}
            return out

    def update(self, project_id: str, body: Any) -> dict[str, int]:
        values = common.body_of(body, "quota")
        common.reject_unknown(values, [*COUNTED, "force", "check_limit"], "quota")
        values.pop("force", None)
        values.pop("check_limit", None)
        with self.db.writer() as s:
            for name, value in values.items():
                limit = common.as_int(value, f"quota {name}", -1)
                row = s.get(models.Quota, (project_id, name))
                if row is None:
                    s.add(models.Quota(project_id=project_id, resource=name, hard_limit=limit))
                else:
                    row.hard_limit = limit
            s.flush()
            return self.limits(s, project_id)

    def reset(self, project_id: str) -> None:
        with self.db.writer() as s:
            s.execute(sa.delete(models.Quota).where(models.Quota.project_id == project_id))
