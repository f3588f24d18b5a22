"""Core tables: consent, approvals of payloads, the outbound ledger.

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "core_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_uuid", sa.String(length=36), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("policy_hash", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_because", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["core_user.id"],
            name=op.f("fk_core_approval_approved_by_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_approval")),
    )
    with op.batch_alter_table("core_approval", schema=None) as batch_op:
        batch_op.create_index(
            "ix_core_approval_record", ["record_type", "record_uuid"], unique=False
        )

    op.create_table(
        "core_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_uuid", sa.String(length=36), nullable=False),
        sa.Column("given_by", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("representative", sa.String(length=20), nullable=True),
        sa.Column("audiences", sa.String(length=100), nullable=False),
        sa.Column("purposes", sa.String(length=100), nullable=False),
        sa.Column("obtained_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end", sa.String(length=20), nullable=True),
        sa.Column("end_reason", sa.String(length=30), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ended_by"],
            ["core_user.id"],
            name=op.f("fk_core_consent_ended_by_core_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["core_user.id"],
            name=op.f("fk_core_consent_recorded_by_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_consent")),
    )
    with op.batch_alter_table("core_consent", schema=None) as batch_op:
        batch_op.create_index(
            "ix_core_consent_record", ["record_type", "record_uuid"], unique=False
        )

    op.create_table(
        "core_ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_uuid", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("policy_hash", sa.String(length=64), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("receipt_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["core_consent.id"],
            name=op.f("fk_core_ledger_entry_consent_id_core_consent"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_ledger_entry")),
    )
    with op.batch_alter_table("core_ledger_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_core_ledger_entry_record", ["record_type", "record_uuid"], unique=False
        )


def downgrade():
    with op.batch_alter_table("core_ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_core_ledger_entry_record")

    op.drop_table("core_ledger_entry")
    with op.batch_alter_table("core_consent", schema=None) as batch_op:
        batch_op.drop_index("ix_core_consent_record")

    op.drop_table("core_consent")
    with op.batch_alter_table("core_approval", schema=None) as batch_op:
        batch_op.drop_index("ix_core_approval_record")

    op.drop_table("core_approval")
