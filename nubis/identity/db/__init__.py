"""The identity database."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.identity.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("identity", "nubis.identity.db:migrations", models.Base.metadata)
