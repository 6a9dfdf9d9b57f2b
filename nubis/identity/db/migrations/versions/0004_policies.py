"""opaque policy documents (/v3/policies)

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


def upgrade() -> None:
    op.create_table('policy',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('blob', sa.Text(), nullable=False),
    sa.Column('extra', nubis.common.db.types.JSONText(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )

# Additive only (nubis.common.db.phases).
phase = 'expand'
