"""The redaction bench pairs the codes it compares: every code redacts every record, taking
turns slice by slice (a machine whose speed drifts then slows them alike)."""

from bench.redaction import _paired_rates


def test_every_code_redacts_every_record_taking_turns():
    seen = []

    def code(name):
        return lambda value, schema, audience, policy: seen.append((name, value, policy))

    values, policies = list(range(120)), [f"policy {n}" for n in range(120)]
    rates = _paired_rates({"now": code("now"), "then": code("then")}, values, None, policies,
                          slice_size=50)
    assert set(rates) == {"now", "then"} and all(rate > 0 for rate in rates.values())
    for name in ("now", "then"):
        assert [(v, p) for n, v, p in seen if n == name] == list(zip(values, policies, strict=True))
    # who went first on each slice of 50: now, then then, then now again
    firsts = [seen[i][0] for i in (0, 100, 200)]
    assert firsts == ["now", "then", "now"]
