"""A hub's statistics pages as a reader gets them: the whole request (query, suppression, the
trend, the SVG charts, the template) over made-up counted incidents.

    python -m bench.hub_pages                         # SQLite and PostgreSQL, 1,000,000 facts
    python -m bench.hub_pages --facts 200000 --database sqlite

Fills a fresh hub's store like ``bench.hub_stats`` (same facts, same bulk insert), signs a
reader in, then times ``GET /federation/statistics`` for a one-dimension table (violation; a
year and one country) and a two-dimension table (country × violation; a year and one
perpetrator type), and the public page for a year: p50 and p95 of 30 requests each. Each
page holds its table, the trend of the same filters and two charts. Targets (issue 15):
p95 ≤ 300 ms on PostgreSQL, ≤ 1 s on SQLite. Figures are for comparison on one machine; this
is not a test.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.hub_stats import fill, make_app, on_each_database, percentiles, reset_schema

PAGES = {
    "statistics 1-D violation, a year, one country":
        "/federation/statistics?rows=violation&since=2024-01&until=2024-12&country=CD",
    "statistics 2-D country x violation, a year, one perpetrator":
        "/federation/statistics?rows=country&columns=violation&since=2024-01&until=2024-12"
        "&perpetrator=perpetrator-2",
    "public page, a year": "/public/statistics?lang=ar&since=2024-01&until=2024-12",
}


def reader(app):
    """A test client signed in as a member (a real server-side session)."""
    from core.testing import add_person, signed_in_client

    with app.app_context():
        person = add_person("reader", "member", second_factor=False)
    return signed_in_client(app, person.id)


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
        client = reader(app)
        for name, path in PAGES.items():
            def ask(path=path):
                answer = client.get(path)
                assert answer.status_code == 200, answer.status_code
                answer.close()

            p50, p95 = percentiles(ask)
            print(f"  {name}: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    on_each_database(run, __doc__)


if __name__ == "__main__":
    main()
