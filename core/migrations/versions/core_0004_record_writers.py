"""Core: who wrote each version of a record, so that an approval means two people.

Records written before this revision have no rows; review then knows their author only
(``author_id`` on the record itself).

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "core_record_writer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_uuid", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("writer_id", sa.Integer(), nullable=True),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["writer_id"],
            ["core_user.id"],
            name=op.f("fk_core_record_writer_writer_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_record_writer")),
    )
    with op.batch_alter_table("core_record_writer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_core_record_writer_record", ["record_type", "record_uuid"], unique=False
        )


def downgrade():
    with op.batch_alter_table("core_record_writer", schema=None) as batch_op:
        batch_op.drop_index("ix_core_record_writer_record")
    op.drop_table("core_record_writer")
