"""Expand/contract: every migration is classified, expand ones only add, and the phases run in order."""

from __future__ import annotations

import ast
import pathlib
import shutil

import pytest
import sqlalchemy as sa

from nubis import services
from nubis.common.db import migration, phases
from nubis.common.db.engine import Database
from tests.unit.common.db.sample import models

SAMPLE = pathlib.Path(models.__file__).parent / "migrations"


def _service_repos() -> list[migration.MigrationRepo]:
    return [s.migration_repo() for s in services.load_all() if s.migration_repo is not None]


# What an expand migration may not do: N's code still reads and writes what these remove or rename.
FORBIDDEN_IN_EXPAND = {"drop_table", "drop_column", "drop_index", "drop_constraint", "rename_table",
                       "alter_column", "execute", "bulk_insert"}


def _expand_violations(path: str) -> list[str]:
    """Forbidden operations in the file's ``upgrade()``, and NOT NULL columns added without a server default
    (N's inserts do not set them and would fail)."""
    tree = ast.parse(pathlib.Path(path).read_text())
    upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    found = []
    for node in ast.walk(upgrade):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr in FORBIDDEN_IN_EXPAND:
            found.append(f"{node.func.attr} (line {node.lineno})")
        if node.func.attr == "add_column":
            column = next((a for a in node.args if isinstance(a, ast.Call)), None)
            keywords = {k.arg: k.value for k in column.keywords} if column is not None else {}
            not_null = isinstance(keywords.get("nullable"), ast.Constant) and keywords["nullable"].value is False
            if not_null and "server_default" not in keywords:
                found.append(f"add_column NOT NULL without server_default (line {node.lineno})")
    return found


@pytest.mark.parametrize("repo", _service_repos(), ids=lambda r: r.service)
def test_every_migration_is_classified_and_expand_ones_only_add(repo: migration.MigrationRepo) -> None:
    chain = phases.revisions(repo)
    assert chain, repo.service
    unclassified = [r.path for r in chain if r.phase not in phases.PHASES]
    assert unclassified == [], "state phase = 'expand' or 'contract' in each migration"
    for rev in chain:
        if rev.phase == phases.EXPAND:
            assert _expand_violations(rev.path) == [], rev.path


def test_the_check_catches_a_drop_in_an_expand_migration(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from alembic import op\nimport sqlalchemy as sa\nphase = 'expand'\n"
                   "def upgrade():\n    op.drop_column('t', 'c')\n"
                   "    op.add_column('t', sa.Column('d', sa.Integer(), nullable=False))\n")
    assert _expand_violations(str(bad)) == ["drop_column (line 5)",
                                            "add_column NOT NULL without server_default (line 6)"]


CONTRACT = '''"""widgets.extra is gone (a contract)

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
phase = "contract"


def upgrade() -> None:
    with op.batch_alter_table("widgets") as batch:
        batch.drop_column("extra")
'''

LATER_EXPAND = '''"""widgets.colour (the next release's expand)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
phase = "expand"


def upgrade() -> None:
    op.add_column("widgets", sa.Column("colour", sa.String(16), nullable=True))
'''


def _build(where: pathlib.Path, upto: int) -> migration.MigrationRepo:
    """The sample schema (0001, 0002 expand), with the contract 0003 and the later expand 0004 up to ``upto``."""
    shutil.copytree(SAMPLE, where, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("0001_initial.py", "0002_extra.py"):
        path = where / "versions" / name
        path.write_text(path.read_text() + "\nphase = 'expand'\n")
    if upto >= 3:
        (where / "versions" / "0003_drop_extra.py").write_text(CONTRACT)
    if upto >= 4:
        (where / "versions" / "0004_colour.py").write_text(LATER_EXPAND)
    return migration.MigrationRepo("sample", str(where), models.Base.metadata)


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> migration.MigrationRepo:
    return _build(tmp_path / "migrations", 4)


def test_which_schemas_a_release_may_serve_on(tmp_path: pathlib.Path) -> None:
    """N (0001-0002) and N+1 (0003 contract added) both serve on the expanded schema; neither on an empty one."""
    old, new = _build(tmp_path / "n", 2), _build(tmp_path / "n1", 3)
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        assert phases.schema_state(db, new)[0] == phases.EMPTY and not phases.can_serve(phases.EMPTY)
        migration.upgrade(db, old, "0001")
        state, todo = phases.schema_state(db, new)
        assert state == phases.BEHIND and [r.revision for r in todo] == ["0002", "0003"]
        assert not phases.can_serve(state)
        phases.expand(db, new)
        assert phases.schema_state(db, old)[0] == phases.CURRENT
        assert phases.schema_state(db, new)[0] == phases.EXPANDED and phases.can_serve(phases.EXPANDED)
        phases.contract(db, new)
        assert phases.schema_state(db, new)[0] == phases.CURRENT
        # N on N+1's contracted schema knows no such revision: "newer" (the guard kept N from running by then).
        assert phases.schema_state(db, old)[0] == phases.NEWER
    finally:
        db.dispose()


def _columns(db: Database) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns("widgets")}


def test_expand_stops_before_the_first_contract_and_contract_waits_for_old_services(
        repo: migration.MigrationRepo, tmp_path: pathlib.Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with pytest.raises(phases.ContractRefused, match="expand migration 0001 is pending"):
            phases.contract(db, repo)
        assert phases.expand(db, repo) == "0002"
        assert migration.current(db, repo) == ("0002",)
        assert "extra" in _columns(db)  # N still reads it
        assert phases.expand(db, repo) is None  # idempotent: nothing more to expand before the contract
        with pytest.raises(phases.ContractRefused, match="nubis-compute on h1"):
            phases.contract(db, repo, lambda: ["nubis-compute on h1 (0.1.0)"])
        assert migration.current(db, repo) == ("0002",)
        phases.contract(db, repo, lambda: [])
        assert migration.current(db, repo) == ("0004",)
        assert _columns(db) == {"id", "name", "size", "created_at", "colour"}
    finally:
        db.dispose()


def test_expand_runs_expands_that_follow_a_done_contract(repo: migration.MigrationRepo,
                                                         tmp_path: pathlib.Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        migration.upgrade(db, repo, "0003")
        assert [r.revision for r in phases.pending(db, repo)] == ["0004"]
        assert phases.expand(db, repo) == "0004"
    finally:
        db.dispose()
