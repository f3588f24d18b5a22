"""The library's browse queries (``plugins.knowledge.views``: the newest page, a filter by
language, type or tag, the tag cloud) on the catalogue ``bench/knowledge.py`` builds.

    python -m bench.knowledge_browse [--entries 100000] [--runs 20]

Run ``python -m bench.knowledge --entries N --database sqlite`` first (it keeps the catalogue
under .bench/). Reads only; prints p50 and p95 in ms of each query as the page runs it (the
page's 30 entries and its count, capped at ``search.COUNT_CAP``) on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.knowledge import STATE
from plugins.knowledge import search
from plugins.knowledge.models import RESOURCE_KINDS, Entry, EntryTag

PER_PAGE, WARM_UP = 30, 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    path = STATE / f"knowledge-sqlite-{options.entries}" / "rabita.db"
    if not path.exists():
        raise SystemExit(f"No catalogue at {path}: run python -m bench.knowledge first.")
    session = Session(create_engine(f"sqlite:///{path}"))
    kinds = list(RESOURCE_KINDS)
    common = session.scalar(select(EntryTag.tag).group_by(EntryTag.tag)
                            .order_by(func.count().desc()).limit(1))

    def listed(*where, page: int = 1):
        query = select(Entry).where(Entry.kind.in_(kinds), *where)
        session.scalar(select(func.count()).select_from(
            query.with_only_columns(Entry.id).limit(search.COUNT_CAP + 1).subquery()))
        return session.scalars(query.order_by(Entry.updated_at.desc(), Entry.id.desc())
                               .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()

    def tag_cloud():
        newest = select(Entry.id).where(Entry.kind.in_(kinds)).order_by(
            Entry.updated_at.desc()).limit(2000).subquery()
        return session.execute(
            select(EntryTag.tag, func.count()).where(EntryTag.entry_id.in_(select(newest.c.id)))
            .group_by(EntryTag.tag).order_by(func.count().desc()).limit(20)).all()

    queries = {
        "newest, page 1": listed,
        "newest, page 100": lambda: listed(page=100),
        "language = ar": lambda: listed(Entry.language == "ar"),
        "type = report": lambda: listed(Entry.kind == "report"),
        f"tag = {common} (the most used)": lambda: listed(Entry.id.in_(
            select(EntryTag.entry_id).where(EntryTag.tag == common))),
        "tag cloud (newest 2,000)": tag_cloud,
    }
    print(f"{session.scalar(select(func.count()).select_from(Entry)):,} entries (SQLite)")
    for name, run in queries.items():
        for _ in range(WARM_UP):
            run()
        times = []
        for _ in range(options.runs):
            started = time.perf_counter()
            run()
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        print(f"  {name:34} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
