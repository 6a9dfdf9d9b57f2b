"""This release's code (N) starts and works on a database a later release (N+1) has expanded."""

from __future__ import annotations

import pathlib
import shutil

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from nubis import services
from nubis.cmd import common
from nubis.common.db import migration, phases
from nubis.common.runtime import Runtime
from nubis.compute.db import models

NEXT_EXPAND = '''"""services.drain_reason and a new table (a later release's expand)

Revision ID: 9001
Revises: {head}
"""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None
phase = "expand"


def upgrade() -> None:
    op.add_column("services", sa.Column("drain_reason", sa.String(255), nullable=True))
    op.add_column("instances", sa.Column("tier", sa.Integer(), nullable=False, server_default="0"))
    op.create_table("host_notes", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("note", sa.Text(), nullable=True))
'''


def _next_release(tmp_path: pathlib.Path, repo: migration.MigrationRepo) -> migration.MigrationRepo:
    where = tmp_path / "next"
    shutil.copytree(pathlib.Path(models.__file__).parent / "migrations", where,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (head,) = migration.heads(repo)
    (where / "versions" / "9001_next.py").write_text(NEXT_EXPAND.format(head=head))
    return migration.MigrationRepo(repo.service, str(where), repo.metadata)


@pytest.fixture
def runtime(conf: cfg.ConfigOpts):  # type: ignore[no-untyped-def]
    for service in services.load_all():
        service.register(conf)
    r = Runtime(conf)
    yield r
    r.close()


def test_this_code_serves_on_the_next_releases_expanded_schema(runtime: Runtime, tmp_path: pathlib.Path) -> None:
    conductor = services.load("conductor")
    repo = conductor.migration_repo()  # type: ignore[misc]
    db = runtime.database(repo.service)
    migration.upgrade(db, repo)
    common.check_schema(runtime, conductor)  # at head
    nxt = _next_release(tmp_path, repo)
    assert phases.expand(db, nxt) == "9001"
    assert phases.schema_state(db, repo)[0] == phases.NEWER
    common.check_schema(runtime, conductor)  # no SystemExit: N keeps (re)starting during the window
    # N's models write and read around the columns and table it does not know.
    with db.writer() as s:
        s.add(models.Service(host="h1", binary="nubis-compute", versions={"release": "n", "rpc": {}}))
        s.add(models.Flavor(flavorid="f1", name="f1", vcpus=1, memory_mb=64, root_gb=1))
    with db.reader() as s:
        assert s.scalars(sa.select(models.Service.host)).all() == ["h1"]
    with db.engine.connect() as c:
        assert c.execute(sa.text("SELECT drain_reason FROM services")).all() == [(None,)]


def test_this_code_refuses_a_schema_it_has_not_expanded(runtime: Runtime) -> None:
    conductor = services.load("conductor")
    repo = conductor.migration_repo()  # type: ignore[misc]
    db = runtime.database(repo.service)
    migration.upgrade(db, repo, phases.revisions(repo)[-2].revision)
    with pytest.raises(SystemExit, match="nubis-manage db expand compute"):
        common.check_schema(runtime, conductor)
