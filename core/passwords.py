"""Password hashing with argon2id: the only module that hashes or checks a password."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

MIN_LENGTH = 12
# Longer inputs are refused before hashing, so nobody can make the server hash megabytes.
MAX_LENGTH = 128
# zxcvbn's score (0–4) a new password needs: 3 is "safely unguessable" against an attacker
# who has stolen the hashes and tries common passwords, words and patterns first.
MIN_STRENGTH = 3

# RFC 9106's second recommended profile: argon2id, 3 passes, 64 MiB, 4 lanes.
# Tests swap in a fast hasher with the `insecure_fast_kdf` fixture; nothing else may.
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)


class PasswordRejected(ValueError):
    """A new password does not meet the rules; the message is shown to the user."""


def check_new(password: str, username: str = "") -> None:
    """Raise PasswordRejected with a sentence the user understands, or return None."""
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(_l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if username and username.casefold() in password.casefold():
        raise PasswordRejected(_l("The password must not contain the username."))
    if _strength(password, username) < MIN_STRENGTH:
        raise PasswordRejected(_l(
            "This password is too easy to guess: it is a common one or close to one. "
            "Add a few uncommon words."))


def _strength(password: str, username: str) -> int:
    """zxcvbn's estimate (0–4): dictionaries of common passwords, words, names, keyboard
    patterns, dates and repeats, with the username as one more word to guess."""
    return zxcvbn(password, user_inputs=[username] if username else [],
                  max_length=MAX_LENGTH)["score"]


def hash_password(password: str) -> str:
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    return HASHER.hash(password)


def verify(password_hash: str, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_nobody(password: str) -> bool:
    """Spend the same time as a real check, for unknown or disabled accounts. Always False."""
    verify(_reference_hash(HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism), password)
    return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


@lru_cache(maxsize=4)
def _reference_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return HASHER.hash("a password nobody has")
