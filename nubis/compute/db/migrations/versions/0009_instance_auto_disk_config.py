"""instances: the disk config (OS-DCF:diskConfig AUTO or MANUAL) a server was given

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Additive: the previous release never reads the column (nubis.common.db.phases).
phase = 'expand'


def upgrade() -> None:
    op.add_column('instances', sa.Column('auto_disk_config', sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
