"""How fast a case is redacted and scrubbed, and what sealing costs, on one core.

    python -m bench.redaction [--records 2000] [--rounds 3] [--before REV ...]

Builds fictional ~2 KB cases (the cases plugin's sample generator), their texts quoting
nothing, then her name and phone, then what documenters write (her name in both scripts,
her employer and its acronym, her house number, the exact date and her age), and measures
on one process, in the same run:
- redact + scrub: records per second of CPU time (the process's: other work on the machine
  does not count) of core.redaction.redact for the `hub` audience, now and with the
  scrubber and redaction of earlier commits, loaded from git history (by
  default 8a0d646, main before issue 12, and 51d0638, main before issue 14; ``--before REV``
  to choose; target ≥ 3,000/s for the documenters' texts). The codes take turns on each
  slice of 50 records, so a machine whose speed drifts slows them alike; each code's rate
  is the best of ``--rounds``;
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
BEFORE = ("8a0d646",  # main before issue 12: the scrubbing it found wanting
          "51d0638")  # main before issue 14 (the platform made plain)
QUOTING = ("nothing", "name and phone", "what documenters write")


def make_app(folder: Path):
    from core import keystore
    from core.app import create_app

    app = create_app({
        "TESTING": True, "SECRET_KEY": "b" * 48, "INSTANCE_PATH": str(folder),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
        "PLUGINS": ["plugins.cases", "plugins.country_tn"], "KEY_SHARE_DIR": None,
    })
    with app.app_context():
        keystore.create_keyring(keystore.keyring_path(app), PASSPHRASE)
        keystore.keystore(app).unlock(PASSPHRASE)
    return app


def build_cases(count: int, quoting: str = QUOTING[1]):
    from core import records
    from plugins.cases import sample

    rng = random.Random(7)
    cases = []
    for _ in range(count):
        case = sample.build(rng)
        cases.append(case)
        if quoting == QUOTING[0]:
            continue
        name = records.identifying_value(case, case.defender, "real_name")
        phone = records.identifying_value(case, case.defender, "contacts")
        # Documenters type names and numbers into narratives: scrubbing has work to do.
        _add_text(case, case, "summary", f" {name} ({phone}) a été convoquée.")
        _add_text(case, case.incidents[0], "narrative", f" {name} reçoit des menaces au {phone}.")
        if quoting == QUOTING[2]:
            _quote_as_documenters_do(case, rng)
    return cases


def _quote_as_documenters_do(case, rng) -> None:
    from core import records
    from core.spellings import propose_spellings

    name = records.identifying_value(case, case.defender, "real_name")
    organisation = records.identifying_value(case, case.defender, "organisation")
    address = records.identifying_value(case, case.defender, "address")
    when = case.incidents[0].occurred_on
    other = (propose_spellings(name) or [name])[0]
    _add_text(case, case, "summary",
              f" Selon sa sœur, {other} travaille à « {organisation} » ; elle habite au "
              f"{address.split(' (')[0]}. Âgée de {case.defender.age} ans.")
    _add_text(case, case.incidents[0], "narrative",
              f" Le {when.day} {rng.choice(['novembre', 'نوفمبر', 'November'])}, elle a été "
              f"convoquée ; le {when:%d/%m/%Y}, {other.split()[0]} a été entendue.")


def _add_text(case, row, attribute: str, more: str) -> None:
    """Add to an open text as written (its column holds only the scrubbed form)."""
    from core import records

    setattr(row, attribute, records.original_text(case, row, attribute) + more)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", action="append", metavar="REV",
                        help=f"also redact with the code of this commit (default: "
                             f"{', '.join(BEFORE)})")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        with app.app_context():
            run(args.records, args.rounds, tuple(args.before or BEFORE))


def run(count: int, rounds: int, befores: tuple[str, ...] = BEFORE) -> None:
    from core import records
    from core.records import policy_for, schema_of, type_of
    from core.redaction import redact

    earlier = {rev: code for rev in befores if (code := _before_redact(rev)) is not None}
    for quoting in QUOTING:
        cases = build_cases(count, quoting)
        schema = schema_of(type_of(cases[0]))
        values = [records.values(case, identifying=True) for case in cases]
        policies = [policy_for(case, "hub") for case in cases]
        size = statistics.mean(len(json.dumps(v, ensure_ascii=False).encode()) for v in values)
        codes = {"now": redact, **earlier}
        rates = {name: [] for name in codes}
        for _ in range(rounds):
            for name, rate in _paired_rates(codes, values, schema, policies).items():
                rates[name].append(rate)
        now = max(rates.pop("now"))
        line = (f"redact + scrub, {count} cases of {size:,.0f} bytes, texts quoting {quoting}: "
                f"{now:,.0f} records/s (best of {rounds}; target ≥ 3,000)")
        for rev, then in rates.items():
            line += f"; at {rev}: {max(then):,.0f}/s, now / then {now / max(then):.2f}"
        print(line)

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


def _paired_rates(codes: dict, values, schema, policies, slice_size: int = 50) -> dict:
    """Each code's records per second of this process's CPU time, over all ``values``: the
    codes take turns on each slice of 50 records, the order flipping every slice, so a
    machine whose speed drifts from one second to the next (seen here: 1.7x) slows every
    code alike. CPU time, not wall time: on a machine others load, wall time counts their
    work too (one thread here, so on a quiet machine the two agree)."""
    spent = dict.fromkeys(codes, 0.0)
    order = list(codes.items())
    for start in range(0, len(values), slice_size):
        pairs = list(zip(values[start:start + slice_size], policies[start:start + slice_size],
                         strict=True))
        for name, redact in order:
            began = time.process_time()
            for value, policy in pairs:
                redact(value, schema, "hub", policy)
            spent[name] += time.process_time() - began
        order.reverse()
    return {name: len(values) / seconds for name, seconds in spent.items()}


def _before_redact(rev: str):
    """core.redaction.redact as it was at ``rev``, with that commit's scrubber, loaded from
    the repository's history (None, and a line saying so, where there is none). Both run on
    today's ``core.text`` and the rest of today's code."""
    import subprocess
    import sys
    import types

    try:
        sources = {path: subprocess.run(["git", "show", f"{rev}:core/{path}.py"],
                                        capture_output=True, text=True, check=True).stdout
                   for path in ("scrub", "redaction")}
    except (OSError, subprocess.CalledProcessError):
        print(f"{rev}: not measured (no git history holding it)")
        return None
    modules = {}
    for path in ("scrub", "redaction"):
        name = f"bench._before_{rev}_{path}"
        module = types.ModuleType(name)
        sys.modules[name] = module
        source = sources[path].replace("from core.scrub import",
                                       f"from bench._before_{rev}_scrub import")
        exec(compile(source, f"{rev}:core/{path}.py", "exec"), module.__dict__)  # noqa: S102
        modules[path] = module
    old = modules["redaction"]
    scrubbers: dict = {}  # one old scrubber per node scrubber, as the node keeps one

    def redact(values, schema, audience, policy):
        scrubber = scrubbers.get(id(policy.scrubber))
        if scrubber is None:
            scrubber = scrubbers[id(policy.scrubber)] = old.Scrubber(
                policy.scrubber.phone_regions, policy.scrubber.patterns)
        return old.redact(values, schema, audience,
                          old.Policy(scrubber, policy.places, policy.withheld, policy.blockers))

    return redact


def _identifying_rows(case):
    yield case.defender, ("real_name", "contacts", "address", "organisation")
    for incident in case.incidents:
        yield incident, ("place_detail", "perpetrator_identity", "sources", "source_reliability")


if __name__ == "__main__":
    main()
