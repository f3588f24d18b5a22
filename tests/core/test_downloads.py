"""Download names: no character that reorders, hides or breaks what a browser shows."""

import functools
import sys
import unicodedata
from urllib.parse import unquote

import pytest

from core.downloads import clean_name, content_disposition

# Named in the issue, by code point, independently of the module's own list.
NAMED_BIDI = [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
              0x200E, 0x200F, 0x061C]
# Every character whose bidirectional class is an explicit formatting one (UAX #9, 2.1-2.4).
EXPLICIT_CLASSES = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


@functools.cache
def every_character() -> dict[str, list[str]]:
    """Each kind of character the names must lose, read off Unicode's whole range (once, when
    a test asks: not while the suite is collected)."""
    kinds: dict[str, list[str]] = {"explicit": [], "controls": [], "invisible": []}
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        if unicodedata.bidirectional(char) in EXPLICIT_CLASSES:
            kinds["explicit"].append(char)
        category = unicodedata.category(char)
        if category == "Cc":
            kinds["controls"].append(char)
        elif category == "Cf" and char not in "\u200c\u200d":
            kinds["invisible"].append(char)
    return kinds


def test_the_lists_are_what_they_claim():
    kinds = every_character()
    assert len(kinds["explicit"]) == 9 and len(kinds["controls"]) == 65
    assert len(kinds["invisible"]) > 150
    assert {ord(char) for char in kinds["explicit"]} <= set(NAMED_BIDI)


@pytest.mark.parametrize("name, shown", [
    ("report\u202etxt.exe", "reporttxt.exe"),
    ("invoice\u202efdp.scr", "invoicefdp.scr"),
    ("\u2067photo\u2069\u2066.jpg.exe", "photo.jpg.exe"),
    ("تقرير\u200f طبي.pdf", "تقرير طبي.pdf"),
    ("a\u061cb.pdf", "ab.pdf"),
    ("line\nbreak\r\n.pdf", "linebreak.pdf"),
    ("tab\there.txt", "tabhere.txt"),
    ("para\u2029graph.pdf", "para graph.pdf"),
    ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
    ("nul\x00byte.pdf", "nulbyte.pdf"),
    ("c1\x85\x9bcontrol.pdf", "c1control.pdf"),
    ("tag\U000e0041\U000e0042s.pdf", "tags.pdf"),
    ("می\u200cخواهم.pdf", "می\u200cخواهم.pdf"),  # a Persian joiner is spelling, kept
    ("\u202e\u2066\u200e", "file"),
    ("", "file"),
])
def test_download_names_keep_no_bidi_or_control_character(name, shown):
    assert clean_name(name) == shown


def test_every_such_character_is_removed_wherever_it_stands():
    kept = set()
    kinds = every_character()
    for char in [chr(code) for code in NAMED_BIDI] + [
            char for kind in ("explicit", "controls", "invisible") for char in kinds[kind]]:
        for name in (f"{char}a.pdf", f"a{char}.pdf", f"a.pdf{char}", f"a{char * 3}b.pdf"):
            if char in clean_name(name) or \
                    char in unquote(content_disposition(name).split("''", 1)[1]):
                kept.add(f"U+{ord(char):04X}")
    assert not kept


def test_the_header_is_ascii_and_gives_the_name_in_utf8():
    header = content_disposition("تقرير\u202e.pdf\"; filename=evil.exe")
    header.encode("ascii")
    assert header.startswith("attachment; filename*=UTF-8''")
    assert unquote(header.split("''", 1)[1]) == 'تقرير.pdf"; filename=evil.exe'
    assert ";" not in header.split("''", 1)[1] and '"' not in header
