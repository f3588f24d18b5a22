"""Sample cases give every field of cases.case a value (or the sample says why not), so the
demo, the benchmarks and the leak check exercise every field the schema declares."""

import random

from core import declaration, records
from plugins.cases import sample
from plugins.cases.schemas import CaseSchema


def filled(value) -> bool:
    return value not in (None, "", [], {})


def paths_with_values(values: dict, prefix: str = "") -> set[str]:
    found = set()
    for name, value in values.items():
        parts = value if isinstance(value, list) and value and isinstance(value[0], dict) \
            else [value] if isinstance(value, dict) else None
        if parts is None:
            found |= {f"{prefix}{name}"} if filled(value) else set()
            continue
        for part in parts:
            found |= paths_with_values(part, f"{prefix}{name}.")
    return found


def test_sample_cases_fill_every_field_but_those_left_empty_with_a_reason(app):
    with app.app_context():
        cases = [sample.build(random.Random(seed)) for seed in range(20)]
        seen = set().union(*(paths_with_values(records.values(case, identifying=True))
                             for case in cases))
    fields = {item.path for item in declaration.declared(CaseSchema) if item.part is None}
    assert fields - seen == set(sample.LEFT_EMPTY)
    assert all(reason.strip() for reason in sample.LEFT_EMPTY.values())
