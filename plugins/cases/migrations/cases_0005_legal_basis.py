"""Cases: version 2 of ``cases.case`` — each incident's legal basis invoked (codes of the
``core.laws`` vocabulary, which country plugins fill).

The column is added empty (NULL: nothing known yet). What existing cases already say of it
is found by the record type's declared upgrade (``plugins.cases.upgrades``), which a
migration cannot run — it needs the unlocked node to read the narratives as written: run
``rabita records upgrade`` once after ``rabita db upgrade``. Going down drops the codes.

Revision ID: cases_0005
Revises: cases_0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0005"
down_revision = "cases_0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("cases_incident", sa.Column("legal_basis", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("cases_incident", "legal_basis")
