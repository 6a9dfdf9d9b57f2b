"""instances: the encrypted admin password a guest posts to the metadata service

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Additive: the previous release never reads the column (nubis.common.db.phases).
phase = 'expand'


def upgrade() -> None:
    op.add_column('instances', sa.Column('password', sa.Text(), nullable=True))
