"""rbac policies: networks granted to other projects

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rbac_policies',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target_project', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('object_type', 'object_id', 'action', 'target_project', name='uniq_rbac_policies_grant')
    )
    with op.batch_alter_table('rbac_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rbac_policies_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rbac_policies_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rbac_policies_target_project'), ['target_project'], unique=False)

# Additive only (nubis.common.db.phases).
phase = 'expand'
