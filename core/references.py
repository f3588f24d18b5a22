"""Opaque record references for people: random, short, easy to read aloud and to type.

A reference is 8 characters of Crockford's base32 (digits and capital letters without I, L,
O and U, so no two characters look or sound alike), shown as ``C-7K3M-9XQ2``. It is drawn at
random, so it says nothing of how many records exist or when one was made (a sequential
number would count the hidden ones). 32**8 (about 10**12) codes: a node draws again on the
rare collision (the plugin checks its table; a unique index is the final guard).

What people type is folded before it is compared: any letter case, any dashes or spaces,
with or without the prefix, full-width or other-script digits, and the look-alikes O → 0 and
I/L → 1, as Crockford's decoding does.
"""

from __future__ import annotations

import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
SEPARATORS = frozenset("-‐‑‒–—―−_ .·")


def draw() -> str:
    """A new random code (8 characters of the alphabet, no prefix or dash)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(prefix: str, code: str | None) -> str:
    """How people see a code: ``C-7K3M-9XQ2`` (prefix, then two groups of four)."""
    if not code:
        return f"{prefix}-new"
    return f"{prefix}-{code[:4]}-{code[4:]}"


def parse(prefix: str, typed: str) -> str | None:
    """The code people meant by ``typed`` (a reference as shown, in any case, with the
    look-alikes folded), or None when it cannot be one."""
    text = unicodedata.normalize("NFKC", typed).strip().upper()
    # The prefix, when given, is cut off: followed by a separator ("C-", "C ") always, and
    # joined to the code ("C7K3M9XQ2") when nine characters are left.
    plain = "".join(_plain(character) for character in text)
    if text.startswith(prefix.upper()) and (
            text[len(prefix):len(prefix) + 1] in SEPARATORS | {" "}
            or len(plain) == LENGTH + len(prefix)):
        plain = plain[len(prefix):]
    text = plain.translate(LOOK_ALIKES)
    if len(text) != LENGTH or any(character not in ALPHABET for character in text):
        return None
    return text


def _plain(character: str) -> str:
    """A typed character as it counts in a code: digits of any script as ASCII digits,
    separators dropped."""
    if character in SEPARATORS or character.isspace():
        return ""
    if character.isdigit() and unicodedata.digit(character, None) is not None:
        return str(unicodedata.digit(character))
    return character
