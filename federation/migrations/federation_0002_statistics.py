"""Federation: the hub's statistics, one fact per counted incident of a held shared record
(federation.statistics); `rabita federation rebuild-statistics` counts those already held.

Revision ID: federation_0002
Revises: federation_0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0002"
down_revision = "federation_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "federation_statistic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("country", sa.String(length=40), nullable=True),
        sa.Column("governorate", sa.String(length=40), nullable=True),
        sa.Column("violation", sa.String(length=40), nullable=True),
        sa.Column("perpetrator", sa.String(length=40), nullable=True),
        sa.Column("activism", sa.String(length=40), nullable=True),
        sa.Column("age_band", sa.String(length=40), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("month", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_statistic")),
    )
    op.create_index("ix_federation_statistic_record", "federation_statistic",
                    ["origin", "record_id"])
    op.create_index("ix_federation_statistic_month", "federation_statistic",
                    ["month", "country", "violation", "perpetrator", "origin"])
    # The records already held are counted by `rabita federation rebuild-statistics`.


def downgrade():
    op.drop_table("federation_statistic")
