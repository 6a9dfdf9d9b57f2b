"""metering labels and rules, address scopes, subnet pools in an address scope

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _standard() -> list[sa.Column]:
    when = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')
    return [
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False),
        sa.Column('revision_number', sa.Integer(), nullable=False),
        sa.Column('created_at', when, nullable=False),
        sa.Column('updated_at', when, nullable=False),
    ]


def upgrade() -> None:
    op.create_table('address_scopes',
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    *_standard(),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('address_scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_scopes_project_id'), ['project_id'], unique=False)

    with op.batch_alter_table('subnetpools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_scope_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_subnetpools_address_scope_id'), ['address_scope_id'], unique=False)
        batch_op.create_foreign_key('fk_subnetpools_address_scope_id', 'address_scopes', ['address_scope_id'],
                                    ['id'])

    op.create_table('metering_labels',
    sa.Column('shared', sa.Boolean(), nullable=False),
    *_standard(),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('metering_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metering_labels_project_id'), ['project_id'], unique=False)

    op.create_table('metering_label_rules',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('metering_label_id', sa.String(length=36), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('remote_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('source_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('destination_ip_prefix', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['metering_label_id'], ['metering_labels.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('metering_label_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metering_label_rules_metering_label_id'), ['metering_label_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_metering_label_rules_project_id'), ['project_id'], unique=False)

# Additive only (nubis.common.db.phases).
phase = 'expand'
