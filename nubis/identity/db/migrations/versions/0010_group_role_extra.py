"""groups and roles keep the extra attributes a client gives them, as Keystone does

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

import nubis.common.db.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Additive: the previous release never reads the columns (nubis.common.db.phases).
phase = 'expand'


def upgrade() -> None:
    op.add_column('group', sa.Column('extra', nubis.common.db.types.JSONText(), nullable=True))
    op.add_column('role', sa.Column('extra', nubis.common.db.types.JSONText(), nullable=True))
