"""Cases: the blind index of the words of a defender's real name (cases_name_word), so she is
found by part of her name. Filled as cases are saved (the key is the unlocked node's):
``rabita cases index-names`` fills it for cases saved before.

Revision ID: cases_0007
Revises: cases_0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0007"
down_revision = "cases_0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cases_name_word",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("defender_id", sa.Integer(),
                  sa.ForeignKey("cases_defender.id", ondelete="CASCADE"), nullable=False),
        sa.Column("word_index", sa.String(64), nullable=False),
    )
    op.create_index("ix_cases_name_word_defender_id", "cases_name_word", ["defender_id"])
    op.create_index("ix_cases_name_word_word_index", "cases_name_word", ["word_index"])


def downgrade():
    op.drop_index("ix_cases_name_word_word_index", table_name="cases_name_word")
    op.drop_index("ix_cases_name_word_defender_id", table_name="cases_name_word")
    op.drop_table("cases_name_word")
