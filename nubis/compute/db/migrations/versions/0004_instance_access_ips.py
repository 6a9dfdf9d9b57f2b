"""instances: the access IPv4/IPv6 addresses a user gives a server

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Additive only (nullable columns): the previous release's services keep working on this schema.
    op.add_column('instances', sa.Column('access_ip_v4', sa.String(length=39), nullable=True))
    op.add_column('instances', sa.Column('access_ip_v6', sa.String(length=39), nullable=True))
