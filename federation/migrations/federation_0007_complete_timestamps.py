"""Federation: received entries' and held records' moments written before issue 14 in
SQLite's short form get the form SQLAlchemy compares
(``core.migrating.complete_sqlite_timestamps``).

Revision ID: federation_0007
Revises: federation_0006
Create Date: 2026-12-06
"""

from alembic import op

from core.migrating import complete_sqlite_timestamps

revision = "federation_0007"
down_revision = "federation_0006"
branch_labels = None
depends_on = None


def upgrade():
    complete_sqlite_timestamps(op.get_bind(), ("federation_entry", "federation_record"))


def downgrade():
    pass  # the long form is what every version reads
