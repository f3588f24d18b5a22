"""Core: second-factor secrets sealed under the instance's SECRET_KEY.

A copy of the database alone no longer holds the TOTP keys in clear (with a cracked
password hash they would open an account). The column keeps its type; its values change.

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-28
"""

import base64

import sqlalchemy as sa
from alembic import op

from core.instance_seal import (
    InstanceSealBroken,
    base32_bytes,
    open_for_instance,
    seal_for_instance,
)

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None

PURPOSE = "core_user.totp_secret"  # core.models.TOTP_SEAL, as it was when this was written


def upgrade():
    for user_id, secret in _secrets():
        raw = base32_bytes(secret)
        if raw is not None and len(raw) <= 20:  # anything else was never a usable secret
            _store(user_id, seal_for_instance(raw, PURPOSE))


def downgrade():
    for user_id, sealed in _secrets():
        try:
            raw = open_for_instance(sealed, PURPOSE)
        except InstanceSealBroken:
            continue
        _store(user_id, base64.b32encode(raw).decode().rstrip("="))


def _secrets():
    return op.get_bind().execute(sa.text(
        "SELECT id, totp_secret FROM core_user WHERE totp_secret IS NOT NULL")).all()


def _store(user_id: int, value: str) -> None:
    op.get_bind().execute(sa.text("UPDATE core_user SET totp_secret = :value WHERE id = :id"),
                          {"value": value, "id": user_id})
