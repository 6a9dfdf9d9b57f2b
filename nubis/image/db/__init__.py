"""The image database."""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.image.db import metadef_models, models, task_models

# The metadata definitions catalog's tables share the images' metadata.
assert metadef_models.Base is models.Base
assert task_models.Base is models.Base


def migration_repo() -> MigrationRepo:
    return MigrationRepo("image", "nubis.image.db:migrations", models.Base.metadata)
