"""Federation: when a peer's turn in the running sync round began (federation.rounds), so the
hub's operations page can say which members are syncing.

Revision ID: federation_0006
Revises: federation_0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0006"
down_revision = "federation_0005"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite has DROP COLUMN since 3.35): a batch operation
# would copy federation_peer and drop the old one, and the drop would cascade to its cursors.
def upgrade():
    op.add_column("federation_peer", sa.Column("turn_started_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("federation_peer", "turn_started_at")
