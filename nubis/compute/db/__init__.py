"""The compute database: flavors, keypairs, instances and their history, services and hypervisors.

Only the API and the conductor open it; compute agents reach it through the conductor.
"""

from __future__ import annotations

from nubis.common.db.migration import MigrationRepo
from nubis.compute.db import models


def migration_repo() -> MigrationRepo:
    return MigrationRepo("compute", "nubis.compute.db:migrations", models.Base.metadata)
