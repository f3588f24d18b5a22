"""Core: the outbound ledger's moments written before issue 14 in SQLite's short form get the
form SQLAlchemy compares (``core.migrating.complete_sqlite_timestamps``).

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-12-06
"""

from alembic import op

from core.migrating import complete_sqlite_timestamps

revision = "core_0007"
down_revision = "core_0006"
branch_labels = None
depends_on = None


def upgrade():
    complete_sqlite_timestamps(op.get_bind(), ("core_ledger_entry",))


def downgrade():
    pass  # the long form is what every version reads
