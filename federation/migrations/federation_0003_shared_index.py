"""Federation: the index of the records shared with this node (federation.shared): folded
words and counted dimensions per held record, for search, filters and pages by cursor;
`rabita federation rebuild-shared-index` indexes those already held.

Revision ID: federation_0003
Revises: federation_0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0003"
down_revision = "federation_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "federation_shared_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("facets", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_shared_index")),
    )
    op.create_index("ix_federation_shared_index_record", "federation_shared_index",
                    ["origin", "record_id"], unique=True)


def downgrade():
    op.drop_table("federation_shared_index")
