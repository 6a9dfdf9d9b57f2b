"""The scheduler database: compute hosts as the scheduler sees them, and NUMA claims."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.scheduler.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("scheduler", "nubis.scheduler.db:migrations", models.Base.metadata)
