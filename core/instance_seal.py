"""Secrets the node needs while it is locked, kept under the instance's SECRET_KEY: a user's
second-factor secret (sealed in its column, and while she enrols) and her recovery codes
(keyed hashes).

The node key cannot protect these: they are needed to sign in, and an admin signs in to
unlock the node. A copy of the database alone reveals none of them; a copy of the instance
folder with it does. The cipher itself is the key store's (``core.keystore.seal``); this
module only derives one key per purpose from SECRET_KEY.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from core import keystore


class InstanceSealBroken(keystore.KeyStoreError):
    """A value sealed under the instance secret does not open: another SECRET_KEY, or an
    altered value."""

    def __init__(self):
        super().__init__(
            "A stored secret does not open with this node's SECRET_KEY: the key was changed, "
            "or the database was altered."
        )


def seal_for_instance(data: bytes, purpose: str) -> str:
    """``data`` sealed with AES-256-GCM under a key derived from the instance's SECRET_KEY,
    as URL-safe base64 (a 20-byte secret: 64 characters). ``purpose`` separates the keys of
    different uses, and is bound to the sealed value."""
    sealed = keystore.seal(_instance_key(purpose), purpose.encode(), data)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def open_for_instance(token: str, purpose: str) -> bytes:
    """What ``seal_for_instance`` sealed; ``InstanceSealBroken`` if it does not open."""
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return keystore.open_sealed(_instance_key(purpose), purpose.encode(), blob)
    except (keystore.IntegrityError, ValueError) as error:
        raise InstanceSealBroken from error


def instance_mac(data: bytes, purpose: str) -> str:
    """A keyed hash (HMAC-SHA256, hex) of ``data`` under a key derived from the instance's
    SECRET_KEY: for one-time secrets the node only has to recognise (recovery codes), so a
    copy of the database alone gives nothing to try offline."""
    key = hmac.new(current_app.config["SECRET_KEY"].encode(),
                   f"rabita instance mac\x00{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _instance_key(purpose: str) -> bytes:
    return hmac.new(current_app.config["SECRET_KEY"].encode(),
                    f"rabita instance seal\x00{purpose}".encode(), hashlib.sha256).digest()


class SealedBase32(TypeDecorator):
    """A base32 secret of at most 20 bytes (a TOTP key) stored sealed under the instance's
    SECRET_KEY: sealed as it is written, opened as it is read, so code sees the base32 text.
    64 characters stored for a 32-character secret."""

    impl = String(64)
    cache_ok = True
    MAX_BYTES = 20

    def __init__(self, purpose: str):
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect):
        if value is None:
            return None
        raw = base32_bytes(value)
        if raw is None or len(raw) > self.MAX_BYTES:
            raise ValueError("not a base32 secret of at most 20 bytes")
        return seal_for_instance(raw, self.purpose)

    def process_result_value(self, value: str | None, dialect):
        if value is None:
            return None
        return base64.b32encode(open_for_instance(value, self.purpose)).decode().rstrip("=")


def base32_bytes(text: str) -> bytes | None:
    """The bytes of base32 ``text`` (any case, padding optional), or None."""
    try:
        return base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None
