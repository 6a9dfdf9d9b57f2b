"""domain-specific configuration options

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

import nubis.common.db.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('domain_config',
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('group', sa.String(length=255), nullable=False),
    sa.Column('option', sa.String(length=255), nullable=False),
    sa.Column('value', nubis.common.db.types.JSONText(), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['project.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain_id', 'group', 'option')
    )

# Additive only (nubis.common.db.phases).
phase = 'expand'
