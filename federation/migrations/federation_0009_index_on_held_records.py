"""Federation: a held record's search words and facets on its own row (federation_record),
not in a table of their own: a sync writes one row per record, not two, and the list reads
one table. What the index table held is moved; the table goes.

Revision ID: federation_0009
Revises: federation_0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0009"
down_revision = "federation_0008"
branch_labels = None
depends_on = None

MOVED = ("UPDATE {target} SET {column} = (SELECT index_row.{column} FROM {source} AS index_row "
         "WHERE index_row.origin = {target}.origin AND index_row.record_id = {target}.record_id)")


def upgrade():
    with op.batch_alter_table("federation_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("words", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("facets", sa.Text(), nullable=True))
    for column in ("words", "facets"):
        op.execute(MOVED.format(target="federation_record", source="federation_shared_index",
                                column=column))
    op.drop_table("federation_shared_index")


def downgrade():
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
    op.execute("INSERT INTO federation_shared_index (origin, record_id, words, facets) "
               "SELECT origin, record_id, words, facets FROM federation_record "
               "WHERE words IS NOT NULL")
    with op.batch_alter_table("federation_record", schema=None) as batch_op:
        batch_op.drop_column("facets")
        batch_op.drop_column("words")
