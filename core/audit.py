"""The audit log: an append-only, hash-chained record of security-relevant actions.

Each entry carries the SHA-256 of the entry before it, so changing, removing or reordering
any entry breaks every link after it, and ``rabita audit verify`` names the first one.
Entries hold codes and internal ids only: details must be short machine words, so a name,
a password, a code, a session id or an IP address cannot be written here by mistake.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from core import clock
from core.extensions import db
from core.models import GENESIS_HASH, AuditEntry, AuditHead

# Actions and detail values are codes: lowercase words, digits, and . _ : - only.
CODE = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,63}\Z")


class AuditValueError(ValueError):
    """A value that is not a short code was about to be written to the audit log."""


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


def record(
    action: str,
    *,
    actor: Any = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    **details: str | int | bool | None,
) -> AuditEntry:
    """Append an entry in the current transaction; it commits (or not) with the action."""
    _check_code("action", action)
    if target_type is not None:
        _check_code("target_type", target_type)
    if target_id is not None:
        _check_code("target_id", str(target_id))
    for key, value in details.items():
        _check_code("detail key", key)
        if isinstance(value, str):
            _check_code(f"detail {key}", value)
        elif value is not None and not isinstance(value, bool | int):
            raise AuditValueError(f"The audit detail {key!r} must be a code, a number or a flag.")
    # Taking the head row's write lock first serialises appends on SQLite and PostgreSQL.
    seq, prev_hash = db.session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one()
    entry = AuditEntry(
        seq=seq,
        at=clock.now(),
        actor_id=_actor_id(actor),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=json.dumps(details, sort_keys=True, separators=(",", ":")),
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry)
    db.session.add(entry)
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=entry.hash))
    return entry


# What an entry's hash covers, in order, and how: compact JSON (one encoder, made once).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_HASHED = ("seq", "at", "actor_id", "action", "target_type", "target_id", "details", "prev_hash")


def entry_hash(entry) -> str:
    """The hash of an entry (an ``AuditEntry`` or a row with the same columns)."""
    body = [
        entry.seq,
        entry.at.isoformat(),
        entry.actor_id,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.details,
        entry.prev_hash,
    ]
    return hashlib.sha256(_COMPACT.encode(body).encode()).hexdigest()


def verify(batch_size: int = 5000, since: int = 1) -> tuple[int, BrokenLink | None]:
    """Walk the chain from entry ``since`` (by default the whole chain) to its head; return
    how many entries were checked and the first broken link. Reads plain rows, a batch at a
    time: no ORM objects (a busy node's log holds hundreds of thousands of entries)."""
    expected_seq, expected_prev, checked = since, GENESIS_HASH, 0
    if since > 1:
        expected_prev = db.session.scalar(
            select(AuditEntry.hash).where(AuditEntry.seq == since - 1))
        if expected_prev is None:
            return 0, BrokenLink(since - 1, "this entry was removed")
    columns = [getattr(AuditEntry, name) for name in (*_HASHED, "hash")]
    while True:
        entries = db.session.execute(
            select(*columns).where(AuditEntry.seq >= expected_seq).order_by(AuditEntry.seq)
            .limit(batch_size)
        ).all()
        if not entries:
            break
        for entry in entries:
            if entry.seq != expected_seq:
                return checked, BrokenLink(expected_seq, "this entry was removed")
            problem = _problem(entry, expected_prev)
            if problem:
                return checked, BrokenLink(entry.seq, problem)
            checked += 1
            expected_seq, expected_prev = entry.seq + 1, entry.hash
    head = db.session.get(AuditHead, 1)
    if head is None or head.seq != expected_seq - 1 or head.hash != expected_prev:
        return checked, BrokenLink(expected_seq, "entries at the end were removed")
    return checked, None


def head_seq() -> int:
    """How many entries the log holds (the head's sequence number)."""
    head = db.session.get(AuditHead, 1)
    return head.seq if head is not None else 0


def _problem(entry, expected_prev: str) -> str | None:
    if entry.prev_hash != expected_prev:
        return "it does not link to the entry before it"
    if entry.hash != entry_hash(entry):
        return "its content was changed after it was written"
    return None


def _actor_id(actor: Any) -> int | None:
    if actor is None or not getattr(actor, "is_authenticated", True):
        return None
    return actor if isinstance(actor, int) else actor.id


def _check_code(what: str, value: str) -> None:
    if not CODE.match(value):
        raise AuditValueError(
            f"The audit {what} must be a short code (lowercase letters, digits, . _ : -)."
        )
