"""block_device_mappings: boot_index and source_type (a server booted from a volume)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Additive: nullable columns the previous release never reads (nubis.common.db.phases).
phase = 'expand'


def upgrade() -> None:
    op.add_column('block_device_mappings', sa.Column('boot_index', sa.Integer(), nullable=True))
    op.add_column('block_device_mappings', sa.Column('source_type', sa.String(length=16), nullable=True))
