"""The network database."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.network.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("network", "nubis.network.db:migrations", models.Base.metadata)
