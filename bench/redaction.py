"""How fast a case is redacted and scrubbed, and what sealing costs, on one core.

    python -m bench.redaction [--records 2000] [--rounds 3]

Builds fictional ~2 KB cases (the cases plugin's sample generator, with names also typed
into the narratives, as documenters do), then measures on one process:
- redact + scrub: records/s of core.redaction.redact for the `hub` audience (target ≥ 5,000/s,
  so redaction never limits sync);
- sealing: the cost per record of writing its identifying values (a new data key, wrapped,
  and each value sealed), and of reading them back (unwrap + open).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

PASSPHRASE = "benchmark passphrase, fictional"  # noqa: S105


def make_app(folder: Path):
    from core import create_app, keystore

    app = create_app({
        "TESTING": True, "SECRET_KEY": "b" * 48, "INSTANCE_PATH": str(folder),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
        "PLUGINS": ["plugins.cases", "plugins.country_tn"], "KEY_SHARE_DIR": None,
    })
    with app.app_context():
        keystore.create_keyring(keystore.keyring_path(app), PASSPHRASE)
        keystore.keystore(app).unlock(PASSPHRASE)
    return app


def build_cases(count: int, names_in_texts: bool = True):
    from core import records
    from plugins.cases import sample

    rng = random.Random(7)
    cases = []
    for _ in range(count):
        case = sample.build(rng)
        cases.append(case)
        if not names_in_texts:
            continue
        name = records.identifying_value(case, case.defender, "real_name")
        phone = records.identifying_value(case, case.defender, "contacts")
        # Documenters type names and numbers into narratives: scrubbing has work to do.
        case.summary += f" {name} ({phone}) a été convoquée."
        case.incidents[0].narrative += f" {name} reçoit des menaces au {phone}."
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        with app.app_context():
            run(args.records, args.rounds)


def run(count: int, rounds: int) -> None:
    from core import records
    from core.records import policy_for, schema_of, type_of
    from core.redaction import redact

    for names_in_texts in (False, True):
        cases = build_cases(count, names_in_texts)
        schema = schema_of(type_of(cases[0]))
        values = [records.values(case, identifying=True) for case in cases]
        policies = [policy_for(case, "hub") for case in cases]
        size = statistics.mean(len(json.dumps(v, ensure_ascii=False).encode()) for v in values)
        rates = []
        for _ in range(rounds):
            start = time.perf_counter()
            for value, policy in zip(values, policies, strict=True):
                redact(value, schema, "hub", policy)
            rates.append(count / (time.perf_counter() - start))
        where = ("her name and phone typed into the summary and a narrative"
                 if names_in_texts else "texts that quote no identifying value")
        print(f"redact + scrub, {count} cases of {size:,.0f} bytes, {where}: "
              f"{max(rates):,.0f} records/s (best of {rounds}; target ≥ 5,000)")

    sealed, opened = [], []
    for case in cases[: min(count, 500)]:
        plain = [(row, field, records.identifying_value(case, row, field))
                 for row, fields in _identifying_rows(case) for field in fields]
        start = time.perf_counter()
        clone = records.new(type(case), None)
        for row, field, value in plain:
            records.set_identifying(clone, row, field, value)
        sealed.append(time.perf_counter() - start)
        clone.__dict__.pop("_rabita_data_key", None)  # as a freshly loaded record
        start = time.perf_counter()
        for row, field, _value in plain:
            records.identifying_value(clone, row, field)
        opened.append(time.perf_counter() - start)
    print(f"sealing a record's {len(plain)} identifying values under a new data key: "
          f"{statistics.median(sealed) * 1e6:,.0f} µs (median); unwrapping the key and "
          f"opening them again: {statistics.median(opened) * 1e6:,.0f} µs")


def _identifying_rows(case):
    yield case.defender, ("real_name", "contacts", "address", "organisation")
    for incident in case.incidents:
        yield incident, ("place_detail", "perpetrator_identity", "sources", "source_reliability")


if __name__ == "__main__":
    main()
