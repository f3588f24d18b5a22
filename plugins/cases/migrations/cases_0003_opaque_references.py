"""Cases: opaque references (``C-7K3M-9XQ2``) instead of the case's number, which showed how
many hidden cases exist. Existing cases get random references here.

The column is added NOT NULL with an empty default (SQLite adds a NOT NULL column only with
a default, and copying the table to change it would fire the ON DELETE CASCADE of every
part), filled, then made unique by an index; PostgreSQL then drops the default.

Revision ID: cases_0003
Revises: cases_0002
Create Date: 2026-12-06
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "cases_0003"
down_revision = "cases_0002"
branch_labels = None
depends_on = None

# Copied, not imported, so this migration never changes when core.references does.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8


def upgrade():
    op.add_column("cases_case", sa.Column("reference_code", sa.String(length=8),
                                          nullable=False, server_default=""))
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM cases_case")).scalars().all()
    codes = _distinct_codes(len(ids))
    if ids:
        connection.execute(
            sa.text("UPDATE cases_case SET reference_code = :code WHERE id = :id"),
            [{"code": code, "id": case_id} for case_id, code in zip(ids, codes, strict=True)])
    if connection.dialect.name == "postgresql":
        op.alter_column("cases_case", "reference_code", server_default=None)
    op.create_index(op.f("ix_cases_case_reference_code"), "cases_case", ["reference_code"],
                    unique=True)


def downgrade():
    op.drop_index(op.f("ix_cases_case_reference_code"), table_name="cases_case")
    op.drop_column("cases_case", "reference_code")


def _distinct_codes(count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:  # a collision is drawn again
        codes.add("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))
    return list(codes)
