"""The placement database."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.scheduler.placement.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("placement", "nubis.scheduler.placement.db:migrations", models.Base.metadata)
