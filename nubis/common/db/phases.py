"""Expand / contract: schema changes that let release N and N+1 run on one database.

Every migration module states ``phase = "expand"`` or ``phase = "contract"``:

* **expand** is additive only (new tables, nullable or defaulted columns, indexes): the
  previous release's code never notices it, so ``nubis-manage db expand`` runs while N
  is still serving, before any N+1 process starts;
* **contract** removes or renames what N+1 no longer reads (drops, renames, NOT NULL on an
  existing column). It runs after every service runs N+1 (``nubis-manage db contract``,
  refused while a service records an older release) and after the online data migrations
  (``nubis-manage db migrate``) have moved the data the dropped things held.

Revisions stay one linear chain per service. ``expand`` goes up to the newest pending
expand revision that has no pending contract revision before it; so a release that needs
a contract must ship it after its own expands (``test_migration_phases`` checks each
migration is classified and that no expand migration drops or renames anything).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from alembic.config import Config
from alembic.script import ScriptDirectory

from nubis.common.db import migration
from nubis.common.db.engine import Database

EXPAND = "expand"
CONTRACT = "contract"
PHASES = (EXPAND, CONTRACT)


@dataclasses.dataclass(frozen=True)
class Revision:
    """One migration: its id, file, and phase (None when the module states none: a test failure)."""

    revision: str
    path: str
    phase: str | None


def revisions(repo: migration.MigrationRepo) -> list[Revision]:
    """The service's migrations, oldest first."""
    cfg = Config()
    cfg.set_main_option("script_location", repo.script_location)
    script = ScriptDirectory.from_config(cfg)
    found = []
    for rev in reversed(list(script.walk_revisions())):
        phase = getattr(rev.module, "phase", None)
        found.append(Revision(rev.revision, str(rev.path), phase))
    return found


def pending(db: Database, repo: migration.MigrationRepo) -> list[Revision]:
    """The revisions the database has not run yet, oldest first (none when it is at a newer release's)."""
    done = set(migration.current(db, repo))
    chain = revisions(repo)
    if not done:
        return chain
    known = [i for i, r in enumerate(chain) if r.revision in done]
    return chain[max(known) + 1:] if known else []


# What a service's code can say of its database's schema.
EMPTY = "empty"  # never synced
BEHIND = "behind"  # expand migrations pending: this code may use what they add
EXPANDED = "expanded"  # only contract migrations pending: this code runs (they only remove what it ignores)
CURRENT = "current"  # at this code's head
NEWER = "newer"  # at a revision this code does not know: a later release expanded it


def schema_state(db: Database, repo: migration.MigrationRepo) -> tuple[str, list[Revision]]:
    """The state of the schema for this code, and the pending revisions."""
    have = set(migration.current(db, repo))
    if not have:
        return EMPTY, revisions(repo)
    if not have & {r.revision for r in revisions(repo)}:
        return NEWER, []
    todo = pending(db, repo)
    if not todo:
        return CURRENT, todo
    return (BEHIND if any(r.phase != CONTRACT for r in todo) else EXPANDED), todo


def can_serve(state: str) -> bool:
    """Whether this code may serve on a schema in ``state`` (the rule that lets N and N+1 share one)."""
    return state in (CURRENT, EXPANDED, NEWER)


def expand_target(db: Database, repo: migration.MigrationRepo) -> str | None:
    """The revision ``expand`` stops at: the last pending expand before any pending contract (None: nothing)."""
    target = None
    for rev in pending(db, repo):
        if rev.phase != EXPAND:
            break
        target = rev.revision
    return target


def expand(db: Database, repo: migration.MigrationRepo) -> str | None:
    """Run the pending additive migrations; the revision reached, None when there were none."""
    target = expand_target(db, repo)
    if target is not None:
        migration.upgrade(db, repo, target)
    return target


class ContractRefused(RuntimeError):
    """``contract`` while something still needs what it would drop."""


def contract(db: Database, repo: migration.MigrationRepo,
             older_services: Callable[[], list[str]] | None = None) -> None:
    """Run every pending migration, contracts included.

    Refused (ContractRefused) when expand migrations are pending (run ``db expand`` first, so the
    order stays expand, migrate, contract) or while ``older_services()`` names services still
    running an older release.
    """
    todo = pending(db, repo)
    if todo and todo[0].phase == EXPAND:
        raise ContractRefused(f"{repo.service}: expand migration {todo[0].revision} is pending; "
                              "run 'nubis-manage db expand' (then 'db migrate') first")
    older = older_services() if older_services is not None else []
    if older:
        raise ContractRefused(f"{repo.service}: services still run an older release: {', '.join(older)}; "
                              "upgrade them (or delete their records) before contracting")
    migration.upgrade(db, repo)

