"""services: the release and RPC versions each service last reported

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import nubis.common.db.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Additive: 0.1's code never reads the column, so it runs on this schema (nubis.common.db.phases).
phase = 'expand'


def upgrade() -> None:
    op.add_column('services', sa.Column('versions', nubis.common.db.types.JSONText(), nullable=True))
