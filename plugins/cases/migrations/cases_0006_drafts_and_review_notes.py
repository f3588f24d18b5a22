"""Cases: drafts of the case form (sealed, their author's alone) and the notes of a reviewer
who sends a case back to its documenter (sealed under the case's data key).

Revision ID: cases_0006
Revises: cases_0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0006"
down_revision = "cases_0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cases_draft",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("author_id", sa.Integer(),
                  sa.ForeignKey("core_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_uuid", sa.String(36), nullable=True),
        sa.Column("data_key", sa.LargeBinary(), nullable=False),
        sa.Column("form", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_cases_draft_author_id", "cases_draft", ["author_id"])
    op.create_table(
        "cases_review_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=True, unique=True),
        sa.Column("case_id", sa.Integer(),
                  sa.ForeignKey("cases_case.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("by_id", sa.Integer(),
                  sa.ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=True),
    )
    op.create_index("ix_cases_review_note_case_id", "cases_review_note", ["case_id"])


def downgrade():
    op.drop_index("ix_cases_review_note_case_id", "cases_review_note")
    op.drop_table("cases_review_note")
    op.drop_index("ix_cases_draft_author_id", "cases_draft")
    op.drop_table("cases_draft")
