"""generic volume groups: group types and their specs, groups, group snapshots

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# New tables and two nullable columns: older code never reads them.
phase = 'expand'


def upgrade() -> None:
    dt = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')
    op.create_table('group_type',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('created_at', dt, nullable=False),
    sa.Column('updated_at', dt, nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('group_type_spec',
    sa.Column('group_type_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['group_type_id'], ['group_type.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_type_id', 'key')
    )
    op.create_table('volume_group',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('availability_zone', sa.String(length=255), nullable=False),
    sa.Column('group_type_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('group_snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('source_group_id', sa.String(length=36), nullable=True),
    sa.Column('follows_members', sa.Boolean(), nullable=False),
    sa.Column('created_at', dt, nullable=False),
    sa.Column('updated_at', dt, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('volume_group', schema=None) as batch_op:
        batch_op.create_index('ix_volume_group_project_created', ['project_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_group_group_type_id'), ['group_type_id'], unique=False)
    op.create_table('group_volume_type',
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('volume_type_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['volume_group.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'volume_type_id')
    )
    op.create_table('group_snapshot',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('group_type_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('follows_members', sa.Boolean(), nullable=False),
    sa.Column('created_at', dt, nullable=False),
    sa.Column('updated_at', dt, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_group_snapshot_project_created', ['project_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_snapshot_group_id'), ['group_id'], unique=False)
    with op.batch_alter_table('volume', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_volume_group_id'), ['group_id'], unique=False)
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_snapshot_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_snapshot_group_snapshot_id'), ['group_snapshot_id'], unique=False)
