"""host settings from the compute API

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aggregate_zone', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('disabled_by_admin', sa.Boolean(), nullable=False, server_default=sa.false()))


# Additive only (nubis.common.db.phases).
phase = 'expand'
