"""What a file export costs, per format and audience, against reading the same records.

    python -m bench.exports [--cases 2000]

Writes N fictional cases into a fresh SQLite node (unlocked), then times (median of 3) the
whole text of ``core.exports.export`` for each format (CSV, JSON) and audience (internal:
redacted and scrubbed; internal-identifying: as written), and as the baseline of the same
run the loading and decrypting of every case (``records.values`` with identifying fields),
which every export does first. Prints records per second and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

PASSPHRASE = "benchmark node passphrase, local only"  # noqa: S105


def make_app(folder: Path):
    from core.app import create_app

    return create_app({
        "TESTING": True, "SECRET_KEY": "b" * 48, "INSTANCE_PATH": str(folder),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
        "PLUGINS": ["plugins.cases", "plugins.country_tn"],
        "KEY_SHARE_DIR": str(folder / "shm"),
    })


def median_seconds(run, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    count = parser.parse_args().cases
    from sqlalchemy import select

    from core import exports, keystore, records, users
    from core.extensions import db
    from plugins.cases import sample
    from plugins.cases.models import Case

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "shm").mkdir(mode=0o700)
        app = make_app(Path(folder))
        with app.app_context():
            db.create_all()
            keystore.create_keyring(keystore.keyring_path(app), PASSPHRASE)
            keystore.keystore().unlock(PASSPHRASE)
            reader = users.create("huda", "benchmark password 2026", "reviewer")
            db.session.commit()
            reader = (type(reader), reader.id)
            sample.create(count, seed=1)
            db.session.commit()
        with app.test_request_context():
            record_type = records.record_types().get("cases.case")

            loaded = select(Case).options(*exports._loaders(Case, record_type.schema()))

            def baseline():  # loaded as exports load them: parts a batch at a time
                for case in db.session.scalars(loaded):
                    records.values(case, identifying=True)
                db.session.expire_all()

            base = median_seconds(baseline)
            print(f"{count:,} cases, SQLite; baseline (load and decrypt): "
                  f"{count / base:,.0f} records/s")
            for fmt in exports.FORMATS:
                for audience in exports.AUDIENCES:
                    def run(fmt=fmt, audience=audience):
                        "".join(exports.export(record_type, select(Case), fmt, audience,
                                               db.session.get(*reader)))
                        db.session.expire_all()

                    seconds = median_seconds(run)
                    print(f"  {fmt:<5} {audience:<22} {count / seconds:>8,.0f} records/s  "
                          f"ratio to baseline {base / seconds:.2f}")


if __name__ == "__main__":
    main()
