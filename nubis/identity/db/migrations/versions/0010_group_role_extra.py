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


def upgrade() -> None:
    # Additive only (nullable columns): a service of the previous release keeps working on this schema.
    op.add_column('group', sa.Column('extra', nubis.common.db.types.JSONText(), nullable=True))
    op.add_column('role', sa.Column('extra', nubis.common.db.types.JSONText(), nullable=True))
