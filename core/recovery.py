"""Recovery codes for the second factor: for the day her phone is lost, without a way in for
anyone holding a copy of the database.

Each code is sixteen digits (typed on any phone keypad, in Western or Arabic-Indic digits)
and works once. The node keeps only an HMAC of each, under a key derived from the instance
secret (``core.instance_seal.instance_mac``), bound to her account: a copied database, or its
WAL, holds nothing to try offline. A used code's row is deleted in the same statement that
accepts it, so two requests with one code give one success. Making new codes revokes the
old ones; resetting or replacing the second factor does too.
"""

from __future__ import annotations

import secrets
import unicodedata

from sqlalchemy import delete, func, insert, select

from core import audit, clock
from core.extensions import db
from core.instance_seal import instance_mac
from core.models import RecoveryCode, User

HOW_MANY = 10
DIGITS = 16
GROUP = 4
PURPOSE = "core_recovery_code"
# Anything longer is not a code, however it is spaced: refused before any work.
MAX_TYPED = 64


def make_new(user: User) -> list[str]:
    """Revoke her codes and make ``HOW_MANY`` new ones, in the current transaction; return
    them grouped for reading (shown once: the caller shows them and keeps them nowhere)."""
    revoke_all(user.id)
    codes = ["".join(secrets.choice("0123456789") for _ in range(DIGITS))
             for _ in range(HOW_MANY)]
    now = clock.now()
    db.session.execute(insert(RecoveryCode), [
        {"user_id": user.id, "code_mac": _mac(user.id, code), "created_at": now}
        for code in codes
    ])
    audit.record("auth.recovery_codes_made", actor=user, target_type="user", target_id=user.id,
                 count=HOW_MANY)
    return [grouped(code) for code in codes]


def use(user: User, typed: str) -> bool:
    """Spend one of her codes: True once per code, in the current transaction."""
    code = normalise(typed)
    if code is None:
        return False
    spent = db.session.execute(
        delete(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_mac == _mac(user.id, code))
        .execution_options(synchronize_session=False)
    ).rowcount
    return spent == 1


def left(user_id: int) -> int:
    """How many unused codes she has."""
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user_id))


def revoke_all(user_id: int) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id)
                       .execution_options(synchronize_session=False))


def normalise(typed: str) -> str | None:
    """The sixteen digits of a typed code, or None if it is not one. Any script's decimal
    digits, full-width forms, spaces, dashes and invisible marks (a code copied from a
    right-to-left page carries some) are accepted."""
    if not typed or len(typed) > MAX_TYPED:
        return None
    digits = []
    for char in unicodedata.normalize("NFKC", typed):
        kind = unicodedata.category(char)
        if kind == "Nd":
            digits.append(str(unicodedata.decimal(char)))
        elif not (char.isspace() or kind in ("Pd", "Cf")):
            return None
    return "".join(digits) if len(digits) == DIGITS else None


def grouped(code: str) -> str:
    return " ".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def _mac(user_id: int, code: str) -> str:
    return instance_mac(f"{user_id}:{code}".encode(), PURPOSE)
