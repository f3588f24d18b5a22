"""Core: what shows a consent was given — a scanned signed form or a note of an oral consent,
sealed under the record's data key and never federated (core_consent_evidence).

Revision ID: core_0008
Revises: core_0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0008"
down_revision = "core_0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "core_consent_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("consent_id", sa.Integer(),
                  sa.ForeignKey("core_consent.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("content_type", sa.String(50), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_by", sa.Integer(),
                  sa.ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_core_consent_evidence_consent_id", "core_consent_evidence",
                    ["consent_id"])


def downgrade():
    op.drop_index("ix_core_consent_evidence_consent_id", table_name="core_consent_evidence")
    op.drop_table("core_consent_evidence")
