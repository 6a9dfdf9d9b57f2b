"""instances: requested networks and network info

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

import nubis.common.db.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('instances', sa.Column('requested_networks', nubis.common.db.types.JSONText(), nullable=True))
    op.add_column('instances', sa.Column('network_info', nubis.common.db.types.JSONText(), nullable=True))

# Additive only (nubis.common.db.phases).
phase = 'expand'
