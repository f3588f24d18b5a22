"""Password rules and argon2id hashing."""

import pytest

from core import passwords


def test_hashes_are_argon2id(insecure_fast_kdf):
    hashed = passwords.hash_password("olive grove in the morning")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "olive grove in the morning")
    assert not passwords.verify(hashed, "olive grove in the evening")


def test_production_parameters_meet_rfc_9106():
    assert passwords.HASHER.memory_cost >= 65536 and passwords.HASHER.time_cost >= 3


@pytest.mark.parametrize("password, words", [
    ("short", "at least 12"), ("x" * 129, "at most 128"), ("salma-is-my-password", "username"),
    # Long enough, yet among the first a cracker tries: refused by zxcvbn's estimate.
    ("password1234", "too easy to guess"), ("qwertyuiop12", "too easy to guess"),
    ("aaaaaaaaaaaaaaaa", "too easy to guess"), ("Password2024!", "too easy to guess"),
])
def test_new_password_rules(password, words):
    with pytest.raises(passwords.PasswordRejected, match=words):
        passwords.check_new(password, "salma")


@pytest.mark.parametrize("password", [
    "olive grove in the morning", "correct horse battery staple", "x" * 11 + "Qz7!vB_pL2mW",
    "زيتونة في الصباح الباكر",
])
def test_strong_new_passwords_are_taken(password):
    passwords.check_new(password, "salma")


def test_overlong_passwords_are_refused_before_hashing(insecure_fast_kdf):
    with pytest.raises(passwords.PasswordRejected):
        passwords.hash_password("x" * 129)
    assert not passwords.verify(passwords.hash_password("y" * 128), "y" * 129)


def test_nobody_never_matches(insecure_fast_kdf):
    assert passwords.verify_nobody("a password nobody has") is False
