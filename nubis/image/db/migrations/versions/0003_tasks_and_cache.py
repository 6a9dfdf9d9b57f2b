"""image tasks (/v2/tasks, the import tasks of an image) and each API node's image cache (/v2/cache)

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

# Additive: new tables the previous release never reads (nubis.common.db.phases).
phase = 'expand'

_TIME = nubis.common.db.types.DateTime


def upgrade() -> None:
    op.create_table('image_task',
                    sa.Column('id', sa.String(length=36), nullable=False),
                    sa.Column('type', sa.String(length=30), nullable=False),
                    sa.Column('status', sa.String(length=30), nullable=False),
                    sa.Column('owner', sa.String(length=255), nullable=True),
                    sa.Column('image_id', sa.String(length=36), nullable=True),
                    sa.Column('request_id', sa.String(length=255), nullable=True),
                    sa.Column('user_id', sa.String(length=255), nullable=True),
                    sa.Column('input', nubis.common.db.types.JSONText(), nullable=True),
                    sa.Column('result', nubis.common.db.types.JSONText(), nullable=True),
                    sa.Column('message', sa.Text(), nullable=False),
                    sa.Column('runner', sa.String(length=255), nullable=True),
                    sa.Column('expires_at', _TIME, nullable=True),
                    sa.Column('created_at', _TIME, nullable=False),
                    sa.Column('updated_at', _TIME, nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_image_task_owner_created_at', 'image_task', ['owner', 'created_at'], unique=False)
    op.create_index('ix_image_task_status', 'image_task', ['status'], unique=False)
    op.create_index(op.f('ix_image_task_image_id'), 'image_task', ['image_id'], unique=False)
    op.create_table('image_cache',
                    sa.Column('node', sa.String(length=255), nullable=False),
                    sa.Column('image_id', sa.String(length=36), sa.ForeignKey('image.id', ondelete='CASCADE'),
                              nullable=False),
                    sa.Column('state', sa.String(length=20), nullable=False),
                    sa.Column('size', sa.BigInteger(), nullable=False),
                    sa.Column('hits', sa.Integer(), nullable=False),
                    sa.Column('last_accessed', _TIME, nullable=False),
                    sa.Column('last_modified', _TIME, nullable=False),
                    sa.PrimaryKeyConstraint('node', 'image_id'))
    op.create_index(op.f('ix_image_cache_image_id'), 'image_cache', ['image_id'], unique=False)
