"""Cases: facet tallies, so a list filtered by one violation type or governorate is counted
without walking its rows.

Revision ID: cases_0002
Revises: cases_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0002"
down_revision = "cases_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cases_facet_tally",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("risk", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "origin", "restricted", "status", "risk",
                                name=op.f("pk_cases_facet_tally")),
    )
    # Count the facets already there (what `rabita cases recount` does).
    op.execute(
        "INSERT INTO cases_facet_tally (kind, value, origin, restricted, status, risk, count) "
        "SELECT kind, value, origin, restricted, status, risk, count(*) FROM cases_facet "
        "GROUP BY kind, value, origin, restricted, status, risk"
    )


def downgrade():
    op.drop_table("cases_facet_tally")
