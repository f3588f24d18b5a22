"""Federation sync figures: a hub pulls records from a node over HTTP on 127.0.0.1.

    python -m bench.sync                 # 100,000 records (a few minutes)
    python -m bench.sync --records 20000

Prints records per second of a full pull (verify the response, the chain, every origin
signature and payload hash, apply, commit page by page), the same figure for a bare loop that
only verifies each entry's signature and upserts it, on one core (measured in this run, on the
same entries, just before and just after the pull), their ratio (target: at least 0.5), and
how long a sync round with nothing new takes when the hub holds 1,000 and 100,000 records
(target: flat, at most 50 ms). Figures are for comparison on one machine; this is not a test.

The node runs as its own process (its own instance folder and SQLite file); this process is
the hub, with its own instance folder and SQLite file. The node's entries are made with
``insecure_fill`` (signed, chained entries of made-up payloads, skipping consent and review:
the figure is about sync, not about documenting).
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from nacl.signing import VerifyKey


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=25, help="no-change rounds to time")
    args = parser.parse_args(argv)

    from federation.testing import Node, insecure_fill_outbox, pair

    folder = Path(tempfile.mkdtemp(prefix="rabita-bench-"))
    (folder / "shm").mkdir()
    print(f"Rabita federation sync bench — {platform.python_version()}, "
          f"{platform.machine()}, folder {folder}")
    node = Node("node", folder / "node", f"sqlite:///{folder / 'node.db'}", "node",
                ["federation"], folder / "shm")
    small_hub = Node("hub-small", folder / "hub-small", f"sqlite:///{folder / 'hub-small.db'}",
                     "hub", ["federation"], folder / "shm")
    hub = Node("hub", folder / "hub", f"sqlite:///{folder / 'hub.db'}", "hub", ["federation"],
               folder / "shm")
    try:
        node.start()
        pair(small_hub, node)
        pair(hub, node)

        started = time.perf_counter()
        insecure_fill_outbox(node, args.small, feed="hub")
        pull(small_hub, node)
        small_round = no_change_round(small_hub, node, args.rounds)

        insecure_fill_outbox(node, args.records - args.small, feed="hub")
        print(f"made {args.records} signed entries on the node in "
              f"{time.perf_counter() - started:.1f} s")

        bare_before = bare_loop(node, folder / "bare-before.db")
        seconds = pull(hub, node)
        full_rate = args.records / seconds
        bare_after = bare_loop(node, folder / "bare-after.db")
        large_round = no_change_round(hub, node, args.rounds)
        # The machine's speed drifts over minutes: the baseline is measured just before and
        # just after the pull, and their mean rate is what the pull is compared with.
        bare_rate = (args.records / bare_before + args.records / bare_after) / 2

        print()
        print(f"full pull over HTTP     {args.records:>8} records in {seconds:7.2f} s  "
              f"{full_rate:8.0f} records/s")
        for when, bare_seconds in (("before", bare_before), ("after", bare_after)):
            print(f"bare verify + upsert    {args.records:>8} records in {bare_seconds:7.2f} s  "
                  f"{args.records / bare_seconds:8.0f} records/s   ({when} the pull)")
        print(f"ratio full / bare       {full_rate / bare_rate:.2f}   (target ≥ 0.5; bare: the "
              f"mean of its two rates)")
        print(f"no-change round at {args.small:>7} records: median {small_round[0]:6.1f} ms, "
              f"p90 {small_round[1]:6.1f} ms")
        print(f"no-change round at {args.records:>7} records: median {large_round[0]:6.1f} ms, "
              f"p90 {large_round[1]:6.1f} ms   (target: flat, ≤ 50 ms)")
    finally:
        for made in (node, small_hub, hub):
            made.close()


def pull(hub, node) -> float:
    """One sync round of ``hub`` with ``node``; returns its wall-clock seconds."""
    from federation import peers, sync

    with hub.context():
        peer = peers.find(node.node_id)
        started = time.perf_counter()
        outcome = sync.sync_peer(peer)
        seconds = time.perf_counter() - started
    if outcome.error:
        raise SystemExit(f"the pull failed: {outcome.error}")
    return seconds


def no_change_round(hub, node, rounds: int) -> tuple[float, float]:
    """Median and 90th percentile, in ms, of sync rounds that find nothing new."""
    times = sorted(pull(hub, node) * 1000 for _ in range(rounds))
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def bare_loop(node, path: Path) -> float:
    """Verify each entry's signature and upsert it, in batches: the least a pull must do."""
    from sqlalchemy import select

    from core.extensions import db
    from federation import protocol, signing
    from federation.models import OutboxEntry

    with node.context():
        key = VerifyKey(signing.identity().genesis.public_key)
        rows = db.session.execute(
            select(OutboxEntry.seq, OutboxEntry.entry, OutboxEntry.sig, OutboxEntry.payload,
                   OutboxEntry.record_id).where(OutboxEntry.feed == "hub")
            .order_by(OutboxEntry.seq)).all()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("CREATE TABLE held (record_id TEXT PRIMARY KEY, seq INTEGER, "
                       "entry TEXT, payload TEXT)")
    started = time.perf_counter()
    batch = []
    for seq, entry, sig, payload, record_id in rows:
        data = entry.encode()
        key.verify(data, protocol.unb64(sig))
        batch.append((record_id, seq, entry, payload))
        if len(batch) == 500:
            _upsert(connection, batch)
            batch = []
    _upsert(connection, batch)
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def _upsert(connection, batch) -> None:
    connection.executemany(
        "INSERT INTO held (record_id, seq, entry, payload) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (record_id) DO UPDATE SET seq = excluded.seq, entry = excluded.entry, "
        "payload = excluded.payload", batch)
    connection.commit()


if __name__ == "__main__":
    main()
