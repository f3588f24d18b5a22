"""`make leakcheck`: cases written the way documenters write, redacted for every audience;
prints what leaked, by category, and how many ordinary words scrubbing took by mistake.

    python -m bench.leakcheck [--cases 1000] [--seed 1] [--names tuning|held-out|fresh|unseen]

Each case (bench/canaries.py, written independently of the scrubber) holds a person's name,
contacts, address, employer, exact places, perpetrators, sources and notes in its `never`
fields, a recorded other spelling of her name, exact dates, an age and a locality in its
`generalise` fields; its open texts quote all of them in three languages, typed every way,
and name the people in spellings nobody recorded. Each case is redacted for `peers`, `hub`
and `public-aggregate` through core.redaction.redact with a Tunisian policy.

Targets: 0 leaks of values the case holds (recorded spellings included), 0 of generalised
values quoted in texts, 0 in `public-aggregate`; ≥ 95 % of unrecorded spellings caught;
≤ 1 % of the words of ordinary sentences (no name, number or date) taken out. Exits with
status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from copy import deepcopy

from marshmallow import fields

from bench.canaries import (
    GENERALISED,
    HELD,
    ORDINARY_SENTENCES,
    PLACES,
    UNRECORDED,
    documented_case,
    leaked,
    normalised,
)
from core.redaction import NEVER, Policy, _nested_schema, redact, sharing_of
from core.scrub import Scrubber, ScrubPattern

POLICY = Policy(Scrubber(["TN"], [ScrubPattern("tn.cin", r"(?<!\d)\d{8}(?!\d)")]), PLACES)
TARGETS = {HELD: "0 leaks", GENERALISED: "0 leaks", UNRECORDED: "≥ 95 % caught"}


def schema_with_spellings():
    """The cases schema, its defender holding the other spellings a documenter confirmed
    (a `never` list beside the name), as the review page records them."""
    from plugins.cases.schemas import CaseSchema, DefenderSchema

    class Defender(DefenderSchema):
        real_name_spellings = fields.List(fields.String(), metadata={"sharing": NEVER})

    class Case(CaseSchema):
        defender = fields.Nested(Defender, allow_none=True,
                                 metadata=CaseSchema._declared_fields["defender"].metadata)

    return Case()


def open_only(values, schema):
    """The record without its `never` fields: what the texts quote before redaction."""
    out = {}
    for name, schema_field in schema.fields.items():
        if name not in values or sharing_of(schema_field) == NEVER:
            continue
        nested = _nested_schema(schema_field)
        value = values[name]
        if nested is not None and value is not None:
            value = ([open_only(item, nested) for item in value] if isinstance(value, list)
                     else open_only(value, nested))
        out[name] = value
    return out


def ordinary_words_taken(rng, values, schema) -> tuple[int, int]:
    """The case's secrets, and texts of ordinary sentences only: words in, words taken."""
    plain = deepcopy(values)
    texts: list[str] = []
    _replace_texts(rng, plain, schema, texts)
    payload = redact(plain, schema, "hub", POLICY).payload
    before = Counter(word for text in texts for word in normalised(text) if word.isalpha())
    after = Counter(word for text in _payload_texts(payload) for word in normalised(text)
                    if word.isalpha())
    return sum(before.values()), sum((before - after).values())


def _replace_texts(rng, values, schema, texts: list) -> None:
    for name, schema_field in schema.fields.items():
        nested = _nested_schema(schema_field)
        value = values.get(name)
        if nested is not None and value is not None:
            for item in value if isinstance(value, list) else [value]:
                _replace_texts(rng, item, nested, texts)
        elif (sharing_of(schema_field) == "open" and not schema_field.metadata.get("code")
              and isinstance(value, str)):
            language = rng.choice(list(ORDINARY_SENTENCES))
            values[name] = " ".join(rng.sample(ORDINARY_SENTENCES[language], 4))
            texts.append(values[name])


def _payload_texts(payload):
    from bench.canaries import _strings

    return list(_strings(payload))


def run(cases: int, seed: int, names: str = "tuning") -> bool:
    schema = schema_with_spellings()
    quoted, leaks, public_leaks = Counter(), Counter(), Counter()
    group_of: dict[str, str] = {}
    examples: dict[str, str] = {}
    words = taken = 0
    started = time.perf_counter()
    for number in range(cases):
        rng = random.Random(seed * 1_000_003 + number)
        case = documented_case(rng, schema, names=names)
        present = leaked(open_only(case.values, schema), case.canaries)
        for canary in present:
            quoted[canary.category] += 1
            group_of[canary.category] = canary.group
        shared = set()
        for audience in ("peers", "hub"):
            payload = redact(case.values, schema, audience, POLICY).payload
            shared.update(id(canary) for canary in leaked(payload, present))
        for canary in present:
            if id(canary) in shared:
                leaks[canary.category] += 1
                examples.setdefault(canary.category, canary.shown)
        public = redact(case.values, schema, "public-aggregate", POLICY).payload
        for canary in leaked(public, present):
            public_leaks[canary.category] += 1
        counted = ordinary_words_taken(rng, case.values, schema)
        words, taken = words + counted[0], taken + counted[1]
    elapsed = time.perf_counter() - started
    return report(cases, elapsed, quoted, leaks, public_leaks, group_of, examples, words, taken)


def report(cases, elapsed, quoted, leaks, public_leaks, group_of, examples, words, taken) -> bool:
    print(f"{cases:,} cases written as documenters write, redacted for peers, hub and "
          f"public-aggregate, in {elapsed:,.0f} s.\n")
    print(f"{'category':<44} {'group':<12} {'quoted':>7} {'leaked':>7} {'caught':>8}")
    totals: dict[str, list[int]] = {}
    for group in (HELD, GENERALISED, UNRECORDED):
        for category in sorted(c for c in quoted if group_of[c] == group):
            caught = 1 - leaks[category] / quoted[category]
            print(f"{category:<44} {group:<12} {quoted[category]:>7,} {leaks[category]:>7,} "
                  f"{caught:>8.1%}")
            total = totals.setdefault(group, [0, 0])
            total[0] += quoted[category]
            total[1] += leaks[category]
    print()
    met = True
    for group, (count, leaked_count) in totals.items():
        caught = 1 - leaked_count / count if count else 1.0
        ok = leaked_count == 0 if group != UNRECORDED else caught >= 0.95
        met &= ok
        print(f"{group:<12} {count:>7,} quoted, {leaked_count:>6,} leaked, {caught:7.2%} caught"
              f"  (target {TARGETS[group]}: {'met' if ok else 'MISSED'})")
    public_total = sum(public_leaks.values())
    met &= public_total == 0
    print(f"public-aggregate: {public_total} canaries in its payloads (target 0: "
          f"{'met' if public_total == 0 else 'MISSED'})")
    share = taken / words if words else 0.0
    met &= share <= 0.01
    print(f"ordinary narrative words taken out by mistake: {taken:,} of {words:,} "
          f"({share:.2%}; target ≤ 1 %: {'met' if share <= 0.01 else 'MISSED'})")
    if examples:
        print("\nExamples of what leaked:")
        for category, shown in sorted(examples.items()):
            print(f"  {category}: {shown!r}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--names", default="tuning",
                        choices=["tuning", "held-out", "fresh", "unseen"],
                        help="the name lists the scrubber was tuned on, or others (see "
                             "bench/canaries.py)")
    args = parser.parse_args()
    if not run(args.cases, args.seed, args.names):
        sys.exit(1)


if __name__ == "__main__":
    main()
