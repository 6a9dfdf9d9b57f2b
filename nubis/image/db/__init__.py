"""The image database."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.image.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("image", "nubis.image.db:migrations", models.Base.metadata)
