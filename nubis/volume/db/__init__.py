"""The volume database."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.volume.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("volume", "nubis.volume.db:migrations", models.Base.metadata)
