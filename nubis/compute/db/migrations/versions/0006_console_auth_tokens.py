"""console_auth_tokens: remote console access tokens

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

# Additive: a new table the previous release never reads (nubis.common.db.phases).
phase = 'expand'


def upgrade() -> None:
    op.create_table(
        'console_auth_tokens',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('console_type', sa.String(length=32), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('port', sa.Integer(), nullable=False),
        sa.Column('internal_access_path', sa.String(length=255), nullable=True),
        sa.Column('instance_uuid', sa.String(length=36), nullable=False),
        sa.Column('compute_host', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.String(length=255), nullable=True),
        sa.Column('project_id', sa.String(length=255), nullable=True),
        sa.Column('access_url_base', sa.String(length=255), nullable=True),
        sa.Column('expires', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index(op.f('ix_console_auth_tokens_instance_uuid'), 'console_auth_tokens', ['instance_uuid'],
                    unique=False)
    op.create_index(op.f('ix_console_auth_tokens_expires'), 'console_auth_tokens', ['expires'], unique=False)
