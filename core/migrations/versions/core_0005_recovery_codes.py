"""Core: recovery codes for the second factor, kept only as keyed hashes.

Users who enrolled before this revision have no codes; they make them on their account page.

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0005"
down_revision = "core_0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "core_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_mac", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_user.id"],
            name=op.f("fk_core_recovery_code_user_id_core_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_recovery_code")),
        sa.UniqueConstraint("code_mac", name=op.f("uq_core_recovery_code_code_mac")),
    )
    with op.batch_alter_table("core_recovery_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_core_recovery_code_user_id"), ["user_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("core_recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_recovery_code_user_id"))
    op.drop_table("core_recovery_code")
