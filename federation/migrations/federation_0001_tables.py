"""Federation tables: peers, keys, the outbox and its heads, received entries, held records,
chains and cursors, the relay feed, nonces, receipts, quarantines.

Revision ID: federation_0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0001"
down_revision = None
branch_labels = ("federation",)
depends_on = "core_0002"  # references core_user and core_consent

# Copied, not imported, so this migration never changes when the models do.
GENESIS = "0" * 64
HEADS = ", ".join(f"('{feed}', 0, '{GENESIS}')" for feed in ("peers", "hub", "relay"))
HEAD_SEED = f"INSERT INTO federation_outbox_head (feed, seq, hash) VALUES {HEADS}"  # noqa: S608


def upgrade():
    op.create_table(
        "federation_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("feed", sa.String(length=8), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_chain")),
        sa.UniqueConstraint("origin", "feed", name="uq_federation_chain_origin_feed"),
    )
    op.create_table(
        "federation_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("feed", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=True),
        sa.Column("record_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("sig", sa.String(length=88), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("relay", sa.Boolean(), nullable=False),
        sa.Column("received_from", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("invalid_reason", sa.String(length=30), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_entry")),
        sa.UniqueConstraint("origin", "feed", "seq", name="uq_federation_entry_origin_feed_seq"),
    )
    with op.batch_alter_table("federation_entry", schema=None) as batch_op:
        batch_op.create_index("ix_federation_entry_record", ["origin", "record_id"], unique=False)

    op.create_table(
        "federation_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("vouched_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_federation_key_key_id")),
    )
    with op.batch_alter_table("federation_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_key_origin"), ["origin"], unique=False)

    op.create_table(
        "federation_nonce",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_federation_nonce")),
    )
    with op.batch_alter_table("federation_nonce", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_nonce_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "federation_outbox_head",
        sa.Column("feed", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_federation_outbox_head")),
    )
    op.create_table(
        "federation_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("seen_from", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_quarantine")),
        sa.UniqueConstraint("origin", name=op.f("uq_federation_quarantine_origin")),
    )
    op.create_table(
        "federation_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("deliver_to", sa.String(length=32), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_receipt")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_federation_receipt_receipt_hash")),
    )
    with op.batch_alter_table("federation_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_receipt_deliver_to"), ["deliver_to"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_federation_receipt_origin"), ["origin"], unique=False)

    op.create_table(
        "federation_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("feed", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("tombstoned_at", sa.DateTime(), nullable=True),
        sa.Column("tombstone_reason", sa.String(length=12), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_record")),
        sa.UniqueConstraint("origin", "record_id", name="uq_federation_record_origin_record_id"),
    )
    op.create_table(
        "federation_peer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=40), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("open_until", sa.DateTime(), nullable=True),
        sa.Column("hinted_at", sa.DateTime(), nullable=True),
        sa.Column("hint_sent_heads", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["core_user.id"],
            name=op.f("fk_federation_peer_approved_by_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_peer")),
        sa.UniqueConstraint("node_id", name=op.f("uq_federation_peer_node_id")),
    )
    op.create_table(
        "federation_relay",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("link", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["federation_entry.id"],
            name=op.f("fk_federation_relay_entry_id_federation_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_federation_relay")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_federation_relay_entry_id")),
    )
    op.create_table(
        "federation_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("feed", sa.String(length=8), nullable=False),
        sa.Column("after", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("remote_head", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"],
            ["federation_peer.id"],
            name=op.f("fk_federation_cursor_peer_id_federation_peer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_cursor")),
        sa.UniqueConstraint("peer_id", "feed", name="uq_federation_cursor_peer_feed"),
    )
    op.create_table(
        "federation_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=True),
        sa.Column("record_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("sig", sa.String(length=88), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("payload_hash", sa.String(length=64), nullable=True),
        sa.Column("policy_hash", sa.String(length=64), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["core_consent.id"],
            name=op.f("fk_federation_outbox_consent_id_core_consent"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_outbox")),
        sa.UniqueConstraint("feed", "seq", name="uq_federation_outbox_feed_seq"),
    )
    with op.batch_alter_table("federation_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_federation_outbox_record", ["record_type", "record_id"], unique=False
        )

    op.execute(HEAD_SEED)


def downgrade():
    with op.batch_alter_table("federation_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_outbox_record")

    op.drop_table("federation_outbox")
    op.drop_table("federation_cursor")
    op.drop_table("federation_relay")
    op.drop_table("federation_peer")
    op.drop_table("federation_record")
    with op.batch_alter_table("federation_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_receipt_origin"))
        batch_op.drop_index(batch_op.f("ix_federation_receipt_deliver_to"))

    op.drop_table("federation_receipt")
    op.drop_table("federation_quarantine")
    op.drop_table("federation_outbox_head")
    with op.batch_alter_table("federation_nonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_nonce_expires_at"))

    op.drop_table("federation_nonce")
    with op.batch_alter_table("federation_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_key_origin"))

    op.drop_table("federation_key")
    with op.batch_alter_table("federation_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_entry_record")

    op.drop_table("federation_entry")
    op.drop_table("federation_chain")
