"""OS-FEDERATION objects: identity providers, mappings, protocols, service providers

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

import nubis.common.db.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('federation_identity_provider',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('authorization_ttl', sa.Integer(), nullable=True),
    sa.Column('remote_ids', nubis.common.db.types.JSONText(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('federation_mapping',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('rules', nubis.common.db.types.JSONText(), nullable=False),
    sa.Column('schema_version', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('federation_protocol',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('idp_id', sa.String(length=64), nullable=False),
    sa.Column('mapping_id', sa.String(length=64), nullable=False),
    sa.Column('remote_id_attribute', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['idp_id'], ['federation_identity_provider.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', 'idp_id')
    )
    op.create_table('federation_service_provider',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('auth_url', sa.String(length=256), nullable=False),
    sa.Column('sp_url', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('relay_state_prefix', sa.String(length=256), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )

# Additive only (nubis.common.db.phases).
phase = 'expand'
