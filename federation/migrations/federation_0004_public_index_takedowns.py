"""Federation: a partial index of the public statistics facts (the public page read every
counted row of its period from the table), and the hub's takedown statements
(federation.takedown: made on a hub, taken on its members).

Revision ID: federation_0004
Revises: federation_0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0004"
down_revision = "federation_0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_federation_statistic_public", "federation_statistic",
                    ["month", "country", "violation", "perpetrator", "origin"],
                    sqlite_where=sa.text("public IS 1"),
                    postgresql_where=sa.text("public IS true"))
    op.create_table(
        "federation_takedown",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("signed", sa.Text(), nullable=True),
        sa.Column("sig", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_takedown")),
        sa.UniqueConstraint("hub", "number", name="uq_federation_takedown_number"),
    )


def downgrade():
    op.drop_table("federation_takedown")
    op.drop_index("ix_federation_statistic_public", table_name="federation_statistic")
