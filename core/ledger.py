"""The outbound ledger: every record version that left the node, to whom, when, under
which consent and policy — and, once it arrives, the recipient's signed receipt."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Select, String, bindparam, insert, select

from core import clock
from core.columns import UTCDateTime
from core.db import insert_rows
from core.extensions import db
from core.models import LedgerEntry


def record_sent(record, *, audience: str, recipient: str, payload_hash: str,
                policy_hash: str, consent_id: int | None) -> LedgerEntry:
    """Add an entry in the current transaction (the sender commits it with the send)."""
    entry = LedgerEntry(
        record_type=record.__record_type__, record_uuid=record.uuid, version=record.version,
        audience=audience, recipient=recipient, payload_hash=payload_hash,
        policy_hash=policy_hash, consent_id=consent_id,
    )
    db.session.add(entry)
    return entry


class Sent(NamedTuple):
    """One record version leaving for one recipient (for ``record_sent_many``)."""

    record_type: str
    record_uuid: str
    version: int
    audience: str
    recipient: str
    payload_hash: str
    policy_hash: str
    consent_id: int | None


def record_sent_many(sent: list[Sent]) -> int:
    """Add many entries in the current transaction in one statement (a page of a pull:
    hundreds of versions leave at once). Returns how many."""
    now = clock.now()
    return insert_rows(LedgerEntry.__table__, [{**one._asdict(), "sent_at": now} for one in sent])


def record_sent_selected(versions: Select, parameters: dict, *, audience: str,
                         recipient: str) -> int:
    """Add, in one statement, an entry for each record version ``versions`` selects (with
    ``parameters``) — columns record type, record uuid, version, payload hash, policy hash,
    consent id — that is leaving for ``recipient`` now. Versions already sent to it are not
    added again (a page fetched twice), and a version selected twice (a record entry made again
    for one version, as when the hub may then relay it) is added once. Returns how many were
    added."""
    chosen = versions.subquery()
    already = select(LedgerEntry.id).where(
        LedgerEntry.record_type == chosen.c[0], LedgerEntry.record_uuid == chosen.c[1],
        LedgerEntry.version == chosen.c[2], LedgerEntry.recipient == bindparam("recipient"))
    rows = select(chosen.c[0], chosen.c[1], chosen.c[2], bindparam("audience", type_=String),
                  bindparam("recipient", type_=String), chosen.c[3], chosen.c[4],
                  chosen.c[5], bindparam("sent_at", type_=UTCDateTime)
                  ).where(~already.exists()).distinct()
    statement = insert(LedgerEntry).from_select(
        ["record_type", "record_uuid", "version", "audience", "recipient", "payload_hash",
         "policy_hash", "consent_id", "sent_at"], rows)
    return db.session.connection().execute(statement, {
        **parameters, "audience": audience, "recipient": recipient, "sent_at": clock.now(),
    }).rowcount


def attach_receipt(*, recipient: str, record_uuid: str, version: int, receipt: str) -> int:
    """Store a recipient's signed receipt on the matching entries; return how many."""
    entries = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.recipient == recipient,
                                  LedgerEntry.record_uuid == record_uuid,
                                  LedgerEntry.version == version,
                                  LedgerEntry.receipt.is_(None))
    ).all()
    for entry in entries:
        entry.receipt, entry.receipt_at = receipt, clock.now()
    return len(entries)


def entries(limit: int = 200, before: int | None = None) -> list[LedgerEntry]:
    query = select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(limit)
    if before:
        query = query.where(LedgerEntry.id < before)
    return list(db.session.scalars(query))
