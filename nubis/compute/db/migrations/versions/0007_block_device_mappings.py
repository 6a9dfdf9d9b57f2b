"""block_device_mappings: volumes attached to servers

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import mysql

import nubis.common.db.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Additive: a new table the previous release never reads (nubis.common.db.phases).
phase = 'expand'


def upgrade() -> None:
    op.create_table(
        'block_device_mappings',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_uuid', sa.String(length=36), nullable=False),
        sa.Column('volume_id', sa.String(length=36), nullable=False),
        sa.Column('attachment_id', sa.String(length=36), nullable=True),
        sa.Column('device_name', sa.String(length=255), nullable=False),
        sa.Column('delete_on_termination', sa.Boolean(), nullable=False),
        sa.Column('tag', sa.String(length=255), nullable=True),
        sa.Column('connection_info', nubis.common.db.types.JSONText(), nullable=True),
        sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_block_device_mappings_instance_uuid'), 'block_device_mappings', ['instance_uuid'],
                    unique=False)
    op.create_index(op.f('ix_block_device_mappings_volume_id'), 'block_device_mappings', ['volume_id'],
                    unique=False)
