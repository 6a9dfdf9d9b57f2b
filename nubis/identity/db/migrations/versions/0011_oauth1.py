"""OS-OAUTH1 consumers, request tokens and access tokens; revocation events may name an access token

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

import nubis.common.db.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Additive only: new tables and a nullable column the previous release never reads (nubis.common.db.phases).
phase = 'expand'

_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade() -> None:
    op.create_table('oauth1_consumer',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('extra', nubis.common.db.types.JSONText(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('oauth1_request_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', _DATETIME, nullable=True),
    sa.Column('authorizing_user_id', sa.String(length=64), nullable=True),
    sa.Column('role_ids', nubis.common.db.types.JSONText(), nullable=True),
    sa.Column('verifier', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['consumer_id'], ['oauth1_consumer.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_oauth1_request_token_consumer_id'), 'oauth1_request_token', ['consumer_id'], unique=False)
    op.create_table('oauth1_access_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('authorizing_user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('role_ids', nubis.common.db.types.JSONText(), nullable=False),
    sa.Column('expires_at', _DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['consumer_id'], ['oauth1_consumer.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['authorizing_user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_oauth1_access_token_consumer_id'), 'oauth1_access_token', ['consumer_id'], unique=False)
    op.create_index(op.f('ix_oauth1_access_token_authorizing_user_id'), 'oauth1_access_token',
                    ['authorizing_user_id'], unique=False)
    op.add_column('revocation_event', sa.Column('access_token_id', sa.String(length=64), nullable=True))
