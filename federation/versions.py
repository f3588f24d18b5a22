"""The version window: which versions of a record type a receiving node applies.

A record entry says which version of its record type its payload follows (``type_version``,
left out for version 1). A node applies entries of every version up to one above its own
version of the record type: an older payload simply lacks what later versions added, and a
payload one version newer is kept exactly as received (its hash is signed, so nothing is
dropped from it) — pages show the fields this node's schema does not describe as sent, and
plugins that derive from payloads read only the fields they know. An entry two or more
versions ahead refuses its page (``record-type-version``): nothing is written, the cursor
stays, and the sync goes on from there once the node runs the newer plugin. A record type
this node does not know at all is held as it is (it never had a version here).
"""

from __future__ import annotations

from core import records
from federation.protocol import RECORD, Entry
from federation.reasons import Refused

WINDOW = 1  # how many versions ahead of its own a node applies


def check(entry: Entry) -> None:
    """Refuse ``entry`` if its record type's version is beyond this node's window."""
    if entry.kind != RECORD or entry.type_version == 1:
        return
    known = records.record_types()
    if entry.record_type not in known:
        return
    if entry.type_version > known.get(entry.record_type).version + WINDOW:
        raise Refused("record-type-version")
