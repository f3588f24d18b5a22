"""Federation: a node restored from a backup signs nothing until it took its own feeds back
from its peers (federation.restored, federation.catchup).

Revision ID: federation_0008
Revises: federation_0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0008"
down_revision = "federation_0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "federation_restored",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("restored_at", sa.DateTime(), nullable=False),
        sa.Column("backup_taken_at", sa.String(32), nullable=False),
        sa.Column("caught_up_at", sa.DateTime(), nullable=True),
        sa.Column("how", sa.String(400), nullable=True),
    )


def downgrade():
    op.drop_table("federation_restored")
