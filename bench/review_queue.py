"""The review queue a reviewer's home page counts, over N cases with a consent in force.

    python -m bench.review_queue [--cases 200 1000]

An in-process node (SQLite, unlocked) with N fictional cases, each with a consent for partner
nodes and the hub, half of them approved at their current version; times
``plugins.cases.workflow.queue`` (what the home page runs for a reviewer) 20 times and prints
p50 and p95 in ms. The queue is worked out case by case in Python (issue 18): this says up
to where that is enough.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.redaction import make_app


def measure(count: int) -> tuple[float, float, int]:
    from core import consent, records, review
    from core.extensions import db
    from core.models import User
    from core.users import create
    from plugins.cases import sample, workflow
    from plugins.cases.models import Case

    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        with app.test_request_context():
            db.create_all()
            author = create("salma", "benchmark password 2026", "documenter")
            reviewer = create("huda", "benchmark password 2026", "reviewer")
            db.session.commit()
            sample.create(count, seed=3)
            for number, case in enumerate(db.session.query(Case).all()):
                records.save(case, author)  # a known writer, so a reviewer may approve
                consent.record(case, user=author, given_by="defender", method="oral",
                               audiences=["peers", "hub"], purposes=["advocacy"],
                               obtained_on=date(2025, 1, 1))
                if number % 2:
                    review.approve(case, "peers", reviewer)
                    review.approve(case, "hub", reviewer)
            db.session.commit()
            user = db.session.get(User, reviewer.id)
            timings = []
            for _ in range(20):
                started = time.perf_counter()
                waiting = workflow.queue(user)
                timings.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            return statistics.median(timings), statistics.quantiles(timings, n=20)[18], \
                len(waiting)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[200, 1000])
    for count in parser.parse_args().cases:
        p50, p95, waiting = measure(count)
        print(f"{count:>6} cases with consent, {waiting} waiting: "
              f"queue p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
