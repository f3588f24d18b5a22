"""Secrets kept under the instance's SECRET_KEY: sealed, keyed, and bound to their purpose."""

import base64
import hashlib
import hmac
import secrets

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.instance_seal import (
    InstanceSealBroken,
    instance_mac,
    open_for_instance,
    seal_for_instance,
)

PURPOSE = "core_user.totp_secret"


def sealed_as_written_in_2026_11(secret_key: str, data: bytes, purpose: str) -> str:
    """A value sealed the way the key store sealed it before this module (and migration
    core_0003) existed: written from the format, not from the code under test."""
    key = hmac.new(secret_key.encode(), f"rabita instance seal\x00{purpose}".encode(),
                   hashlib.sha256).digest()
    nonce = secrets.token_bytes(12)
    blob = nonce + AESGCM(key).encrypt(nonce, data, purpose.encode())
    return base64.urlsafe_b64encode(blob).decode().rstrip("=")


def test_a_value_sealed_before_the_move_still_opens(app_context):
    data = secrets.token_bytes(20)
    old = sealed_as_written_in_2026_11(app_context.config["SECRET_KEY"], data, PURPOSE)
    assert open_for_instance(old, PURPOSE) == data
    new = seal_for_instance(data, PURPOSE)
    assert len(new) == len(old) == 64 and new != old  # a fresh nonce each time


def test_a_sealed_value_opens_only_for_its_purpose_and_unaltered(app_context):
    sealed = seal_for_instance(b"a twenty-byte secret", PURPOSE)
    assert open_for_instance(sealed, PURPOSE) == b"a twenty-byte secret"
    for broken, purpose in ((sealed, "core_session.enrol_secret"), (sealed[:-2], PURPOSE),
                            ("", PURPOSE), ("not base64 at all!", PURPOSE)):
        with pytest.raises(InstanceSealBroken):
            open_for_instance(broken, purpose)


def test_recovery_codes_are_keyed_by_the_instance_secret_and_purpose(app_context):
    mac = instance_mac(b"7:ABCD-EFGH", "core_recovery_code")
    assert mac == instance_mac(b"7:ABCD-EFGH", "core_recovery_code")
    assert mac != instance_mac(b"7:ABCD-EFGH", "another purpose")
    app_context.config["SECRET_KEY"] = "another secret key " * 3
    assert mac != instance_mac(b"7:ABCD-EFGH", "core_recovery_code")
