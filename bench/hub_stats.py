"""A hub's statistics: the statistics query over 1,000,000 counted incidents, and what
counting costs when records are stored.

    python -m bench.hub_stats                        # SQLite and PostgreSQL, 1,000,000 facts
    python -m bench.hub_stats --facts 100000 --database sqlite

Fills a fresh hub's store (``federation_statistic``) in bulk through ``core.db.insert_rows``
(every value through its column's type) with made-up facts — 20 countries, 200 governorates,
12 violations, 6 perpetrator types, 8 fields of activism, 6 age bands, 120 months, 4 statuses,
30 member nodes — then times ``federation.statistics.table`` (the query, the suppression and
the table the pages show) for a one-dimension table (violation; a year and one country) and a
two-dimension table (country × violation; a year and one perpetrator type): p50 and p95 of
30 runs each. Targets: p95 ≤ 300 ms on PostgreSQL, ≤ 1 s on SQLite.

Then stores 20 pages of 500 signed case records with ``federation.inbox.apply`` (as a sync
does, without the HTTP) and prints the time spent counting them (``statistics.count``,
measured inside the same calls) against the whole apply, and against verifying and applying
the same pages (what a sync does with each page, but the HTTP): target ≤ 10%.
Figures are for comparison on one machine; this is not a test.
"""

from __future__ import annotations

import argparse
import random
import statistics as stats
import tempfile
import time
import uuid
from pathlib import Path

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_hub_stats"


def make_app(folder: Path, database: str):
    from core.app import create_app

    url = f"sqlite:///{folder / 'hub.db'}" if database == "sqlite" else \
        f"{POSTGRES}?options=-csearch_path%3D{SCHEMA}"
    return create_app({
        "TESTING": True, "SECRET_KEY": "b" * 48, "INSTANCE_PATH": str(folder),
        "SQLALCHEMY_DATABASE_URI": url, "PLUGINS": ["federation"],
        "FEDERATION_ROLE": "hub", "KEY_SHARE_DIR": str(folder / "shm"),
    })


def reset_schema() -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()


VIOLATIONS = [f"violation-{n}" for n in range(12)]
PERPETRATORS = [f"perpetrator-{n}" for n in range(6)]
COUNTRIES = [f"C{chr(65 + n)}" for n in range(20)]


def fact(rng: random.Random, origins: list[str]) -> dict:
    country = rng.choice(COUNTRIES)
    year = rng.randint(2016, 2025)
    month = year * 100 + rng.randint(1, 12)
    return {"origin": rng.choice(origins), "record_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "public": rng.random() < 0.6, "first": rng.random() < 0.7, "country": country,
            "governorate": f"{country}-{rng.randint(1, 10)}",
            "violation": rng.choice(VIOLATIONS), "perpetrator": rng.choice(PERPETRATORS),
            "activism": f"field-{rng.randint(0, 7)}", "age_band": f"band-{rng.randint(0, 5)}",
            "year": year, "month": month, "status": rng.choice(["open", "closed", "a", "b"])}


def fill(count: int) -> float:
    from core.db import insert_rows
    from core.extensions import db
    from federation.statistics import Fact

    rng = random.Random(1)
    origins = [f"{n:032x}" for n in range(30)]
    started = time.perf_counter()
    for start in range(0, count, 20_000):
        insert_rows(Fact.__table__, [fact(rng, origins) for _ in range(min(20_000,
                                                                            count - start))])
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does to a hub's table soon after a bulk load: without the
        # visibility map a query reads the heap beside the index (no index-only scan).
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
            vacuum.execute(db.text("VACUUM ANALYZE federation_statistic"))
    else:
        db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    return time.perf_counter() - started


def percentiles(run, times: int = 30) -> tuple[float, float]:
    run()  # warm
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return stats.median(seconds) * 1000, seconds[int(0.95 * (len(seconds) - 1))] * 1000


def queries() -> dict:
    from federation import statistics
    from federation.statistics import Filters

    one = Filters(since="2024-01", until="2024-12", country="CD")
    two = Filters(since="2024-01", until="2024-12", perpetrator="perpetrator-2")
    return {
        "1-D violation, a year, one country": lambda: statistics.table(("violation",),
                                                                       filters=one),
        "2-D country x violation, a year, one perpetrator": lambda: statistics.table(
            ("country", "violation"), filters=two),
    }


def incremental_cost(pages: int = 20, per_page: int = 500) -> tuple[float, float, float]:
    """Seconds in ``statistics.count``, in the whole ``inbox.apply``, and in verifying the
    same pages first (``inbox.verify_feed``: the chain, every signature and payload hash, as
    a sync does before it applies), over the pages."""
    from datetime import UTC, datetime

    from nacl.signing import SigningKey

    from core.extensions import db
    from federation import identity, inbox, protocol
    from federation.models import Key

    key = SigningKey(bytes(range(32)))
    public = bytes(key.verify_key)
    origin = identity.key_id_of(public)
    rng = random.Random(2)
    counting = [0.0]
    real_count = inbox.count_statistics

    def timed(items, received):
        started = time.perf_counter()
        try:
            return real_count(items, received)
        finally:
            counting[0] += time.perf_counter() - started

    db.session.add(Key(origin=origin, key_id=origin, public_key=public,
                       valid_from=datetime(2020, 1, 1, tzinfo=UTC), source="pairing"))
    db.session.commit()
    own = "f" * 32  # this hub's id: any other than the origin's (no key needed here)
    inbox.count_statistics = timed
    seq, prev, applying, verifying = 0, protocol.GENESIS, 0.0, 0.0
    try:
        for _ in range(pages):
            raws = []
            for _ in range(per_page):
                payload = protocol.canonical({
                    "title": "Fictional case", "status": "open",
                    "defender": {"age": "30-44", "activism": ["labour"], "gender": "f"},
                    "incidents": [{"occurred_on": f"2025-{rng.randint(1, 12):02d}",
                                   "place": "EG-C", "violation": rng.choice(VIOLATIONS),
                                   "perpetrator_type": "police", "narrative": "x" * 600}
                                  for _ in range(rng.randint(1, 3))]})
                seq += 1
                text = protocol.canonical(protocol.entry_body(
                    origin=origin, feed="hub", seq=seq, prev=prev,
                    at="2026-03-01T09:00:00Z", key=origin, kind="record",
                    record_type="cases.case", record_id=str(uuid.uuid4()), version=1,
                    payload_hash=protocol.sha256_hex(payload), relay=False,
                    consent={"audiences": ["hub"], "purposes": ["statistics"],
                             "expires": None}))
                prev = protocol.sha256_hex(text)
                raws.append({"seq": seq, "entry": text.decode(),
                             "sig": protocol.b64(key.sign(text).signature),
                             "payload": payload.decode()})
            started = time.perf_counter()
            page = inbox.verify_feed(origin, "hub", raws, seq, inbox.Keys(), own)
            verified = time.perf_counter()
            inbox.apply(page.items, received_from=origin, relay=True)
            _chain(page)
            db.session.commit()
            applying += time.perf_counter() - verified
            verifying += verified - started
    finally:
        inbox.count_statistics = real_count
    return counting[0], applying, verifying


def _chain(page) -> None:
    """Where the origin's feed stands, as ``inbox.advance`` keeps it (no peer here)."""
    from core.extensions import db
    from federation.models import Chain

    last = page.items[-1].entry
    chain = db.session.query(Chain).filter_by(origin=last.origin, feed=last.feed).first()
    if chain is None:
        chain = Chain(origin=last.origin, feed=last.feed)
        db.session.add(chain)
    chain.last_seq, chain.last_hash, chain.last_at = last.seq, last.hash, last.at


def run(database: str, count: int) -> None:
    from core.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "shm").mkdir(mode=0o700)
        if database == "postgresql":
            reset_schema()
        app = make_app(Path(folder), database)
        with app.app_context():
            db.create_all()
            print(f"{database}: filled {count:,} facts in {fill(count):,.0f} s")
            for name, query in queries().items():
                p50, p95 = percentiles(query)
                print(f"  {name}: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms")
            counting, applying, verifying = incremental_cost()
            print(f"  storing 10,000 records: apply {applying * 1000 / 10_000:.2f} ms a "
                  f"record, of which counting {counting * 1000 / 10_000:.3f} ms "
                  f"({100 * counting / applying:.1f}%); with verifying first "
                  f"{(applying + verifying) * 1000 / 10_000:.2f} ms a record "
                  f"(counting {100 * counting / (applying + verifying):.1f}%)")
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    on_each_database(run, __doc__)


def on_each_database(run_one, doc: str) -> None:
    """Parse --facts and --database, then ``run_one(database, facts)`` on each asked for."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"),
                        default="both")
    args = parser.parse_args()
    for database in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        run_one(database, args.facts)


if __name__ == "__main__":
    main()
