"""Reason codes: stable, documented, and never leaking what a node knows."""

import re
from pathlib import Path

import pytest

from federation.reasons import REASONS, Refused

SPEC = Path(__file__).resolve().parents[2] / "docs" / "federation.md"


def documented_codes():
    table = SPEC.read_text().split("## Reason codes", 1)[1].split("\n## ", 1)[0]
    return {match.group(1): int(match.group(2))
            for match in re.finditer(r"^\| `([a-z-]+)` \| (\d{3}) \|", table, re.MULTILINE)}


def test_the_specification_lists_exactly_the_codes_and_statuses():
    assert documented_codes() == {code: reason.status for code, reason in REASONS.items()}


def test_codes_are_short_lowercase_words():
    assert all(re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", code) for code in REASONS)


def test_an_unknown_code_cannot_be_raised():
    with pytest.raises(ValueError):
        Refused("something-else")


def test_a_refusal_carries_its_fixed_text_only():
    refused = Refused("signature-invalid", "key abc not found")
    assert refused.as_json() == {"error": "signature-invalid",
                                 "message": "The signature could not be verified."}
