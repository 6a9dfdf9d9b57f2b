"""attachment connection_info: what the storage host's export told the compute

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

# A new nullable column: older code ignores it.
phase = 'expand'


def upgrade() -> None:
    with op.batch_alter_table('volume_attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('connection_info', nubis.common.db.types.JSONText(), nullable=True))
