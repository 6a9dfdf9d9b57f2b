"""the metadata definitions catalog: namespaces, their objects, properties, tags and resource types

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import nubis.common.db.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Additive: new tables the previous release never reads (nubis.common.db.phases).
phase = 'expand'

def _times() -> list[sa.Column]:
    return [sa.Column('created_at', nubis.common.db.types.DateTime, nullable=False),
            sa.Column('updated_at', nubis.common.db.types.DateTime, nullable=False)]


def _namespace_id() -> sa.Column:
    return sa.Column('namespace_id', sa.Integer(), sa.ForeignKey('metadef_namespace.id', ondelete='CASCADE'),
                     nullable=False)


def upgrade() -> None:
    op.create_table('metadef_namespace',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('namespace', sa.String(length=80), nullable=False),
                    sa.Column('display_name', sa.String(length=80), nullable=True),
                    sa.Column('description', sa.Text(), nullable=True),
                    sa.Column('visibility', sa.String(length=32), nullable=False),
                    sa.Column('protected', sa.Boolean(), nullable=False),
                    sa.Column('owner', sa.String(length=255), nullable=False),
                    *_times(),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('namespace', name='uq_metadef_namespace_namespace'))
    op.create_index('ix_metadef_namespace_owner', 'metadef_namespace', ['owner'], unique=False)
    op.create_table(
        'metadef_resource_type',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('protected', sa.Boolean(), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name', name='uq_metadef_resource_type_name'))
    op.create_table('metadef_namespace_resource_type',
                    sa.Column('namespace_id', sa.Integer(),
                              sa.ForeignKey('metadef_namespace.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('resource_type_id', sa.Integer(), sa.ForeignKey('metadef_resource_type.id'),
                              nullable=False),
                    sa.Column('prefix', sa.String(length=80), nullable=True),
                    sa.Column('properties_target', sa.String(length=80), nullable=True),
                    *_times(),
                    sa.PrimaryKeyConstraint('namespace_id', 'resource_type_id'))
    op.create_index(op.f('ix_metadef_namespace_resource_type_resource_type_id'), 'metadef_namespace_resource_type',
                    ['resource_type_id'], unique=False)
    op.create_table('metadef_object',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    _namespace_id(),
                    sa.Column('name', sa.String(length=80), nullable=False),
                    sa.Column('description', sa.Text(), nullable=True),
                    sa.Column('required', nubis.common.db.types.JSONText(), nullable=True),
                    sa.Column('properties', nubis.common.db.types.JSONText(), nullable=False),
                    *_times(),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('namespace_id', 'name', name='uq_metadef_object_namespace_id_name'))
    op.create_table('metadef_property',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    _namespace_id(),
                    sa.Column('name', sa.String(length=80), nullable=False),
                    sa.Column('definition', nubis.common.db.types.JSONText(), nullable=False),
                    *_times(),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('namespace_id', 'name', name='uq_metadef_property_namespace_id_name'))
    op.create_table('metadef_tag',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    _namespace_id(),
                    sa.Column('name', sa.String(length=80), nullable=False),
                    *_times(),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('namespace_id', 'name', name='uq_metadef_tag_namespace_id_name'))
