"""OS-TRUST trusts and their roles; revocation events may name a trust

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


def upgrade() -> None:
    op.create_table('trust',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('trustor_user_id', sa.String(length=64), nullable=False),
    sa.Column('trustee_user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=True),
    sa.Column('impersonation', sa.Boolean(), nullable=False),
    sa.Column('allow_redelegation', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('remaining_uses', sa.Integer(), nullable=True),
    sa.Column('extra', nubis.common.db.types.JSONText(), nullable=True),
    sa.ForeignKeyConstraint(['trustor_user_id'], ['user.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trustee_user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_trust_trustor_user_id'), 'trust', ['trustor_user_id'], unique=False)
    op.create_index(op.f('ix_trust_trustee_user_id'), 'trust', ['trustee_user_id'], unique=False)
    op.create_table('trust_role',
    sa.Column('trust_id', sa.String(length=64), nullable=False),
    sa.Column('role_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trust_id', 'role_id')
    )
    op.add_column('revocation_event', sa.Column('trust_id', sa.String(length=64), nullable=True))

# Additive only (nubis.common.db.phases).
phase = 'expand'
