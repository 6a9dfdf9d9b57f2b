"""Running one service's Alembic migrations, and checking models against them.

Each service keeps its own script directory (``nubis/<service>/db/migrations``)
and its own version table, so services upgrade independently and can share a
database server (or even a database) without stepping on each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from nubis.common.db.engine import Database


@dataclasses.dataclass(frozen=True)
class MigrationRepo:
    """Where a service's migrations live and what schema they must produce."""

    service: str
    script_location: str  # "package:dir", e.g. "nubis.identity.db:migrations"
    metadata: sa.MetaData
    # Online data migrations (``nubis-manage db migrate``), each ``(db, max_count) -> (found, done)``:
    # move up to ``max_count`` rows to the new form, report how many still needed it and how many
    # it moved; idempotent, so an interrupted run is simply run again.
    online_migrations: tuple[Callable[[Database, int], tuple[int, int]], ...] = ()

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.service}"


def _config(repo: MigrationRepo, connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", repo.script_location)
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = repo.version_table
    cfg.attributes["target_metadata"] = repo.metadata
    return cfg


def upgrade(db: Database, repo: MigrationRepo, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (all heads by default)."""
    with db.engine.begin() as conn:
        command.upgrade(_config(repo, conn), revision)


def current(db: Database, repo: MigrationRepo) -> tuple[str, ...]:
    """The revisions the database is at (empty before the first sync)."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"version_table": repo.version_table}
        )
        return tuple(ctx.get_current_heads())


def heads(repo: MigrationRepo) -> tuple[str, ...]:
    """The newest revisions the code knows."""
    cfg = Config()
    cfg.set_main_option("script_location", repo.script_location)
    return tuple(ScriptDirectory.from_config(cfg).get_heads())


def schema_diff(db: Database, repo: MigrationRepo) -> list[Any]:
    """Differences between the migrated schema and the models (empty = in sync)."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "version_table": repo.version_table,
                "compare_type": True,
                "include_object": _ignore_version_tables,
            },
        )
        diff: list[Any] = compare_metadata(ctx, repo.metadata)
        return diff


def _ignore_version_tables(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Other services' tables (shared DB) and any version table are not ours to compare.
    if type_ == "table" and reflected and compare_to is None:
        return False
    return not (type_ == "table" and name and name.startswith("alembic_version"))
