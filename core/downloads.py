"""Downloads: the name a browser is given for a file, with nothing in it that could disguise
what the file is.

Bidirectional controls reorder what is shown (``report<U+202E>fdp.exe`` reads as
``reportexe.pdf``), and other invisible or control characters hide or break parts of a name,
so a file name keeps none of them, whoever wrote it and whenever it was stored.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

# Named for readers; every one is also of the "format" category removed below.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides, and their end
    "\u2066\u2067\u2068\u2069"  # isolates, and their end
    "\u200e\u200f\u061c"  # left-to-right, right-to-left and Arabic letter marks
)
# Zero-width (non-)joiners are part of how Persian and Kurdish words are spelled.
JOINERS = frozenset("\u200c\u200d")
REMOVED = frozenset({"Cc", "Cf", "Cs", "Cn"})  # controls, format, surrogates, unassigned
LINE_BREAKS = frozenset({"Zl", "Zp"})
FALLBACK = "file"
MAX_LENGTH = 200


def clean_name(name: str | None) -> str:
    """``name`` without bidirectional controls, control, format or unassigned characters
    (joiners kept), line breaks turned to spaces, runs of spaces made one; ``file`` if
    nothing is left."""
    kept = []
    for char in unicodedata.normalize("NFC", name or ""):
        kind = unicodedata.category(char)
        if char in BIDI_CONTROLS or (kind in REMOVED and char not in JOINERS):
            continue
        kept.append(" " if kind in LINE_BREAKS else char)
    cleaned = " ".join("".join(kept).split())[:MAX_LENGTH]
    return cleaned or FALLBACK


def content_disposition(name: str | None) -> str:
    """The ``Content-Disposition`` value for downloading a file called ``name`` (RFC 6266,
    the name in UTF-8 as RFC 8187 says)."""
    return f"attachment; filename*=UTF-8''{quote(clean_name(name), safe='')}"
