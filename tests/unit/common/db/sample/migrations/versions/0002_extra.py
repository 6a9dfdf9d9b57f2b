"""widgets.extra (an expand-only change: a nullable column)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from nubis.common.db import types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("widgets", sa.Column("extra", types.JSONText, nullable=True))
