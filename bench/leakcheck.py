"""`make leakcheck`: 10,000 canary records through redaction; prints how many canaries leaked.

    python -m bench.leakcheck [--examples 10000]

For the cases plugin's record type, Hypothesis generates records with canaries in every
identifying field, quoted in the open texts in every way people write them (see
core/leakcheck.py), redacts each for every audience, and counts the canaries found in the
payloads. The expected count is 0; any other count exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.leakcheck import canary_records, leaks
from core.places import Gazetteer, Place
from core.redaction import AUDIENCES, Policy, redact
from core.scrub import Scrubber, ScrubPattern


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args()

    from plugins.cases.schemas import CaseSchema

    schema = CaseSchema()
    places = Gazetteer([Place("TN", "country"), Place("TN-61", "governorate", parent="TN"),
                        Place("TN-61:sakiet-ezzit", "locality", parent="TN-61")])
    policy = Policy(Scrubber(["TN"], [ScrubPattern("tn.cin", r"(?<!\d)\d{8}(?!\d)")]), places)
    place = st.sampled_from(["TN-61", "TN-61:sakiet-ezzit", "unknown"])
    typical = {"defender.residence": place, "incidents.place": place}
    totals = {"records": 0, "canaries": 0, "leaked": 0, "payloads": 0}
    found: list[str] = []

    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(canary_records(schema, typical))
    def check(record):
        totals["records"] += 1
        totals["canaries"] += len(set(record.canaries)) + len(set(record.whole))
        for audience in AUDIENCES:
            payload = redact(record.values, schema, audience, policy).payload
            totals["payloads"] += 1
            leaked = leaks(payload, record.canaries, record.whole)
            totals["leaked"] += len(leaked)
            found.extend(leaked)

    started = time.perf_counter()
    check()
    elapsed = time.perf_counter() - started
    print(f"{totals['records']:,} canary records ({totals['canaries']:,} canaries), "
          f"{totals['payloads']:,} payloads for {len(AUDIENCES)} audiences, "
          f"in {elapsed:,.0f} s: {totals['leaked']} canaries leaked.")
    if found:
        print("Leaked:", ", ".join(sorted(set(found))[:20]))
        sys.exit(1)


if __name__ == "__main__":
    main()
