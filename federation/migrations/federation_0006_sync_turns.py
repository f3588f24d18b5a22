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


def upgrade():
    with op.batch_alter_table("federation_peer") as batch:
        batch.add_column(sa.Column("turn_started_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("federation_peer") as batch:
        batch.drop_column("turn_started_at")
