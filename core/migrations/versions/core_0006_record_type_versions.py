"""Core: record types that change — approved payloads kept (sealed) for the comparison a
reviewer sees when a payload changes, and how far each record type's stored records were
upgraded.

Revision ID: core_0006
Revises: core_0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0006"
down_revision = "core_0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("core_approval", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
    op.create_table(
        "core_record_type_state",
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("upgraded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("record_type", name=op.f("pk_core_record_type_state")),
    )


def downgrade():
    op.drop_table("core_record_type_state")
    with op.batch_alter_table("core_approval", schema=None) as batch_op:
        batch_op.drop_column("payload")
