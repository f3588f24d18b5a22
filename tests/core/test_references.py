"""Opaque references: random, short, read aloud and typed back in any reasonable way."""

import random

import pytest

from core import references

LOOK_ALIKES_BACK = {"0": "Oo", "1": "IiLl"}


def test_a_drawn_code_is_eight_characters_of_the_alphabet_without_look_alikes():
    codes = [references.draw() for _ in range(2000)]
    assert all(len(code) == 8 and set(code) <= set(references.ALPHABET) for code in codes)
    assert not set("ILOU") & set("".join(codes))
    assert len(set(codes)) == len(codes)
    # every character is drawn: no position stuck on part of the alphabet
    for position in range(8):
        assert len({code[position] for code in codes}) == 32


def test_shown_with_prefix_and_two_groups():
    assert references.shown("C", "7K3M9XQ2") == "C-7K3M-9XQ2"
    assert references.shown("C", None) == "C-new"


def typed_variants(code: str, rng: random.Random) -> list[str]:
    """How people type a reference they heard or read: built apart from the parser."""
    shown = f"C-{code[:4]}-{code[4:]}"
    spoken = "".join(rng.choice(LOOK_ALIKES_BACK.get(c, c)) for c in code)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in shown)  # a phone's wide keyboard
    arabic_digits = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in shown)
    return [shown, shown.lower(), code, code.lower(), f" {shown} ", f"c {code[:4]} {code[4:]}",
            f"C–{code[:4]}–{code[4:]}", spoken, f"C-{spoken[:4]}-{spoken[4:]}", full_width,
            arabic_digits, f"{code[:2]}.{code[2:4]}.{code[4:6]}.{code[6:]}"]


def test_what_people_type_is_folded_back_to_the_code():
    rng = random.Random(7)
    for _ in range(200):
        code = references.draw()
        for typed in typed_variants(code, rng):
            assert references.parse("C", typed) == code, typed


@pytest.mark.parametrize("typed", [
    "", "C-", "C-7K3M", "C-7K3M-9XQ", "C-7K3M-9XQ22", "C-7K3M-9XQU", "7K3M*9XQ2",
    "C-7K3M-9XQ2\x00", "x" * 10_000, "C-00002", "robert'); drop table", "C-7K3M-9XQ\u0301",
    "سلمى بن علي",
])
def test_anything_else_is_no_reference(typed):
    assert references.parse("C", typed) is None

