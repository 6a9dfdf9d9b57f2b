"""The metering database."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.metering.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("metering", "nubis.metering.db:migrations", models.Base.metadata)
