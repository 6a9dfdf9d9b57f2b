"""backups and volume transfers

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

import nubis.common.db.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Two new tables: older code never reads them.
phase = 'expand'


def upgrade() -> None:
    dt = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')
    op.create_table('backup',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('parent_id', sa.String(length=36), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('container', sa.String(length=255), nullable=True),
    sa.Column('availability_zone', sa.String(length=255), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('fail_reason', sa.String(length=1024), nullable=True),
    sa.Column('object_count', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('service', sa.String(length=255), nullable=False),
    sa.Column('provider_location', sa.String(length=1024), nullable=True),
    sa.Column('source_status', sa.String(length=30), nullable=True),
    sa.Column('restore_volume_id', sa.String(length=36), nullable=True),
    sa.Column('volume_meta', nubis.common.db.types.JSONText(), nullable=True),
    sa.Column('metadata_items', nubis.common.db.types.JSONText(), nullable=True),
    sa.Column('data_timestamp', dt, nullable=True),
    sa.Column('created_at', dt, nullable=False),
    sa.Column('updated_at', dt, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('backup', schema=None) as batch_op:
        batch_op.create_index('ix_backup_project_created', ['project_id', 'created_at'], unique=False)
        batch_op.create_index('ix_backup_host', ['host'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_volume_id'), ['volume_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_parent_id'), ['parent_id'], unique=False)

    op.create_table('transfer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('source_project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('crypt_hash', sa.String(length=128), nullable=False),
    sa.Column('no_snapshots', sa.Boolean(), nullable=False),
    sa.Column('created_at', dt, nullable=False),
    sa.Column('updated_at', dt, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_volume_id'), ['volume_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_source_project_id'), ['source_project_id'], unique=False)
