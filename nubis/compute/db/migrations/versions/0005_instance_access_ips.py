"""instances: the access IPv4/IPv6 addresses a user gives a server

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Additive: the previous release never reads the columns (nubis.common.db.phases).
phase = 'expand'


def upgrade() -> None:
    op.add_column('instances', sa.Column('access_ip_v4', sa.String(length=39), nullable=True))
    op.add_column('instances', sa.Column('access_ip_v6', sa.String(length=39), nullable=True))
