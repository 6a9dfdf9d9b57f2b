"""The placement database."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.placement.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("placement", "nubis.placement.db:migrations", models.Base.metadata)
