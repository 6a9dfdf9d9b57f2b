"""password rows record whether their user set them (minimum password age)

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
    op.add_column('password', sa.Column('self_service', sa.Boolean(), server_default=sa.false(), nullable=False))

# Additive only (nubis.common.db.phases).
phase = 'expand'
