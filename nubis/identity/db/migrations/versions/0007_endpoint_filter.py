"""OS-EP-FILTER: endpoint groups and project associations

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

import nubis.common.db.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('endpoint_group',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('filters', nubis.common.db.types.JSONText(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('project_endpoint',
    sa.Column('endpoint_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['endpoint.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('endpoint_id', 'project_id')
    )
    op.create_table('project_endpoint_group',
    sa.Column('endpoint_group_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_group_id'], ['endpoint_group.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('endpoint_group_id', 'project_id')
    )

# Additive only (nubis.common.db.phases).
phase = 'expand'
