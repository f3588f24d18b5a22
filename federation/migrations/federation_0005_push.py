"""Federation: node-initiated sync (federation.push) — which way records go with each peer,
when it last pushed, and how far each peer acknowledged what this node pushed to it.

Revision ID: federation_0005
Revises: federation_0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0005"
down_revision = "federation_0004"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite has DROP COLUMN since 3.35): a batch operation
# would copy federation_peer and drop the old one, and the drop would cascade to its cursors.
def upgrade():
    op.add_column("federation_peer", sa.Column("direction", sa.String(length=10), nullable=True))
    op.add_column("federation_peer", sa.Column("pushed_at", sa.DateTime(), nullable=True))
    op.create_table(
        "federation_push_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("feed", sa.String(length=8), nullable=False),
        sa.Column("after", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("acked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["peer_id"], ["federation_peer.id"], ondelete="CASCADE",
                                name=op.f("fk_federation_push_cursor_peer_id_federation_peer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_push_cursor")),
        sa.UniqueConstraint("peer_id", "feed", name="uq_federation_push_cursor_peer_feed"),
    )


def downgrade():
    op.drop_table("federation_push_cursor")
    op.drop_column("federation_peer", "pushed_at")
    op.drop_column("federation_peer", "direction")
