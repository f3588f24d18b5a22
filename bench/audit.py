"""What checking the audit chain costs as the log grows: `rabita audit verify` (and the
audit page on demand) checks it whole, each view of the audit page its newest entries.

    python -m bench.audit [--entries 100000]

Writes N entries chained as ``core.audit.record`` chains them (logins, views of identifying
data, saves, failures, as a busy node's log holds) into a fresh SQLite node, then prints for
N/10 and N entries the time of ``core.audit.verify()`` over the whole chain (median of 3), the
memory it allocates at its peak (tracemalloc), and the time of what each view of the audit
page checks (the newest entries).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

ACTIONS = [("auth.signed_in", {}), ("record.identifying_viewed", {"field": "real_name"}),
           ("record.saved", {}), ("auth.failed", {"step": "password"})]


def make_app(folder: Path):
    from core.app import create_app

    return create_app({
        "TESTING": True, "SECRET_KEY": "b" * 48, "INSTANCE_PATH": str(folder),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
        "PLUGINS": [], "KEY_SHARE_DIR": None,
    })


def write_entries(count: int) -> None:
    """Append ``count`` entries, chained exactly as ``core.audit.record`` chains them, written
    a thousand at a time (``record`` itself takes a lock per entry: minutes for 100,000)."""
    from types import SimpleNamespace

    from sqlalchemy import update

    from core import audit, clock
    from core.db import insert_rows
    from core.extensions import db
    from core.models import AuditEntry, AuditHead

    head = db.session.get(AuditHead, 1)
    seq, prev_hash, rows = head.seq, head.hash, []
    for _ in range(count):
        seq += 1
        action, details = ACTIONS[seq % len(ACTIONS)]
        entry = SimpleNamespace(
            seq=seq, at=clock.now(), actor_id=seq % 7 + 1, action=action, target_type="case",
            target_id=str(seq), details=json.dumps(details, sort_keys=True, separators=(",", ":")),
            prev_hash=prev_hash)
        entry.hash = prev_hash = audit.entry_hash(entry)
        rows.append(vars(entry))
        if len(rows) == 1000:
            insert_rows(AuditEntry.__table__, rows)
            rows = []
    insert_rows(AuditEntry.__table__, rows)
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev_hash))
    db.session.commit()


def measure(label: str) -> None:
    from core import audit
    from core.extensions import db
    from core.views.admin import AUDIT_CHECKED

    times = []
    for _ in range(3):
        db.session.expunge_all()
        start = time.perf_counter()
        checked, broken = audit.verify()
        times.append(time.perf_counter() - start)
    if broken is not None:
        raise SystemExit(f"the chain is broken at {broken.seq}: {broken.reason}")
    db.session.expunge_all()
    tracemalloc.start()
    audit.verify()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    db.session.rollback()
    print(f"{label}: {checked:,} entries checked in {statistics.median(times) * 1000:,.0f} ms "
          f"({checked / statistics.median(times):,.0f} entries/s), "
          f"peak allocation {peak / 2**20:,.1f} MiB")
    since = max(1, audit.head_seq() - AUDIT_CHECKED + 1)
    page = []
    for _ in range(3):
        start = time.perf_counter()
        audit.verify(since=since)
        page.append(time.perf_counter() - start)
    print(f"  what each view of the audit page checks (the newest {AUDIT_CHECKED:,}): "
          f"{statistics.median(page) * 1000:,.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        with app.app_context():
            from core.extensions import db

            db.create_all()
            first = args.entries // 10
            write_entries(first)
            measure("audit chain")
            write_entries(args.entries - first)
            measure("audit chain")


if __name__ == "__main__":
    main()
