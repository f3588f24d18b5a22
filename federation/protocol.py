"""Protocol objects: how entries and signed documents look, are canonicalised and are read.

Everything signed is an RFC 8785 (JCS) canonical JSON text. It travels *as that text* (a
JSON string inside the page, bundle or envelope), so a receiver hashes and verifies the exact
bytes that were signed and never re-canonicalises (the costliest step, STACK-NOTES). Every
JSON text a node accepts is parsed strictly: UTF-8 only, no duplicate keys, no NaN.

Nothing here signs or touches a key; ``federation.signing`` signs and ``federation.identity``
verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import orjson
import rfc8785

from federation.reasons import Refused

ENTRY_TYPE = "rabita.entry/1"
NODE_TYPE = "rabita.node/1"
KEY_TYPE = "rabita.key/1"
RECEIPT_TYPE = "rabita.receipt/1"
RECEIPTS_TYPE = "rabita.receipts/1"
VOUCH_TYPE = "rabita.vouch/1"
HINT_TYPE = "rabita.hint/1"
PAIR_TYPE = "rabita.pair/1"
PAGE_TYPE = "rabita.page/1"
BUNDLE_TYPE = "rabita.bundle/1"

GENESIS = "0" * 64
# Feeds: one hash chain per audience an origin shares with, and a hub's relay feed.
PEERS, HUB, RELAY = "peers", "hub", "relay"
ENTRY_FEEDS = (PEERS, HUB)
FEED_RANK = {HUB: 1, PEERS: 2}  # ties of one version: the partner nodes' payload wins
RECORD, TOMBSTONE, KEY = "record", "tombstone", "key"
# A record counted on a hub without being held there (consent to ``public-aggregate`` only):
# its counted dimensions, as codes, in the ``hub`` feed (docs/federation.md, "Tally entries").
TALLY = "tally"
# A record for partner nodes only, relayed by the hub as ciphertext sealed to its recipients
# (docs/federation.md, "Sealed relay"; ``federation.sealing``).
SEALED = "sealed"
SEALED_TYPE = "rabita.sealed/1"
MAX_RECIPIENTS = 1000
ENCRYPTION_KEY_CONTEXT = b"rabita-encryption-key\x00"
TOMBSTONE_REASONS = ("withdrawn", "expired", "superseded", "retracted")
ROLES = ("node", "hub")
CONSENT_AUDIENCES = ("peers", "hub", "public-aggregate")
CONSENT_PURPOSES = ("advocacy", "urgent-appeal", "statistics", "referral")
MAX_INT = 2**53 - 1  # JCS numbers are IEEE doubles: larger integers would not survive

NODE_ID = re.compile(r"^[a-z2-7]{32}\Z")
NODE_ID_CONTEXT = b"rabita-node-id\x00"
HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
RECORD_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_-]{0,31}\Z")
AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
DAY = re.compile(r"^\d{4}-\d\d-\d\d\Z")


def key_id_of(public_key: bytes) -> str:
    """The id of a key (for a node's first key: the node id), 32 base32 characters."""
    digest = hashlib.sha256(NODE_ID_CONTEXT + public_key).digest()
    return base64.b32encode(digest[:20]).decode("ascii").lower()


def encryption_key_id(public_key: bytes) -> str:
    """The id of an X25519 encryption key (another context than signing keys' ids)."""
    digest = hashlib.sha256(ENCRYPTION_KEY_CONTEXT + public_key).digest()
    return base64.b32encode(digest[:20]).decode("ascii").lower()


# -- canonical text, hashes, strict reading ----------------------------------------------


def canonical(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``: what is hashed and signed."""
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, length: int | None = None, code: str = "bad-request") -> bytes:
    if not isinstance(text, str):
        raise Refused(code, "expected base64 text")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise Refused(code, "malformed base64") from None
    if length is not None and len(data) != length:
        raise Refused(code, "wrong length")
    return data


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey()
    return result


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def strict_loads(data: bytes | str) -> Any:
    """Parse JSON text: UTF-8 only, duplicate keys, NaN/Infinity and lone surrogates
    (``"\\ud800"``: no character, and no UTF-8 to hash or store) refused."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        value = _STRICT.decode(text)
    except _DuplicateKey:
        raise Refused("duplicate-key") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused("json-invalid") from None
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and _lone_surrogate(value):
        raise Refused("json-invalid")
    return value


def strict_loads_written(data: bytes, *, canonical: bool = False) -> Any:
    """``strict_loads``, quicker for text written the way nodes write it — compact (page
    bodies) or RFC 8785 canonical (entries and payloads, ``canonical``): orjson reads it and
    writes it back; the same bytes prove it holds no duplicate key, NaN or lone surrogate
    (a duplicate would come back once). Any other text is read by ``strict_loads``."""
    try:
        value = orjson.loads(data)
        if orjson.dumps(value, option=orjson.OPT_SORT_KEYS if canonical else 0) == data:
            return value
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        pass
    return strict_loads(data)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_canonical(data: bytes, code: str, *, typed: bool = False) -> Any:
    """Parse text that must be RFC 8785 canonical (an entry, a payload, a signed envelope's
    text): anything else — re-indented, keys reordered, a number or a string written
    another way — is refused with ``code``, even when its signature or hash holds.

    orjson writing the value back, keys sorted, gives the same bytes as RFC 8785 except for
    numbers with a fraction or an exponent, and for keys holding characters beyond U+FFFF
    (RFC 8785 orders keys by UTF-16 code units): a value with either is checked by
    ``rfc8785`` itself. ``typed``: the caller then checks every field's type and name (an
    entry: no float, ASCII keys), so the first comparison decides."""
    try:
        value = orjson.loads(data)
        quick = orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == data
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        value, quick = strict_loads(data), False
    if quick and (typed or not _written_otherwise(value)):
        return value
    try:
        same = canonical(value) == data
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        same = False
    strict_loads(data)  # duplicate keys, NaN, lone surrogates: refused as everywhere
    if not same:
        raise Refused(code, "not RFC 8785 canonical text")
    return value


def _written_otherwise(value: Any) -> bool:
    """Whether RFC 8785 may write ``value`` otherwise than orjson: it holds a float, or a key
    with a character beyond U+FFFF."""
    waiting = [value]
    while waiting:
        item = waiting.pop()
        kind = type(item)
        if kind is dict:
            if any(not key.isascii() and max(key) > "\uffff" for key in item):
                return True
            waiting.extend(item.values())
        elif kind is list:
            waiting.extend(item)
        elif kind is float:
            return True
    return False


def _lone_surrogate(value: Any) -> bool:
    """Whether a parsed value holds a string that is not whole Unicode (an escaped
    surrogate without its pair). Only looked for when the text has such an escape."""
    try:
        if type(value) is str:
            value.encode("utf-8")
        elif type(value) is list:
            return any(_lone_surrogate(item) for item in value)
        elif type(value) is dict:
            return any(_lone_surrogate(key) or _lone_surrogate(item)
                       for key, item in value.items())
    except UnicodeEncodeError:
        return True
    except RecursionError:
        return True  # too deep to look at: refused
    return False


# One decoder for every text (``json.loads`` would build one per call); a byte order mark is
# refused like any other character outside JSON.
_STRICT = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON for message bodies (not canonical: bodies are covered by digests).
    orjson writes the bytes ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``
    would, a dozen times faster: a page of 500 entries is 1.4 MB."""
    return orjson.dumps(value)


# -- time ----------------------------------------------------------------------------------


def at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_at(text: Any, code: str = "entry-invalid") -> datetime:
    if not isinstance(text, str) or not AT.match(text):
        raise Refused(code, "bad timestamp")
    try:  # the form is checked above: fromisoformat only reads it (and refuses 2026-02-30)
        return datetime.fromisoformat(text)
    except ValueError:
        raise Refused(code, "bad timestamp") from None


def parse_day(text: Any, code: str = "entry-invalid") -> date | None:
    if text is None:
        return None
    if not isinstance(text, str) or not DAY.match(text):
        raise Refused(code, "bad date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(code, "bad date") from None


# -- entries -------------------------------------------------------------------------------


class Entry(NamedTuple):
    """One signed outbox entry, as verified bytes and the fields read from them."""

    raw: bytes  # the canonical text that was signed
    hash: str  # SHA-256 of ``raw``: what the next entry's ``prev`` names
    origin: str
    feed: str
    seq: int
    prev: str
    at: datetime
    key: str  # the id of the key that signed it
    kind: str
    record_type: str | None = None
    record_id: str | None = None
    version: int | None = None
    consent: dict | None = None
    payload_hash: str | None = None
    relay: bool = False
    reason: str | None = None
    key_event: dict | None = None
    type_version: int = 1  # the version of its record type the payload follows
    sealed: dict | None = None  # a sealed entry's {"to": [node ids], "content_hash"}

    @property
    def expires_on(self) -> date | None:
        return parse_day(self.consent.get("expires")) if self.consent else None


_COMMON = frozenset({"type", "origin", "feed", "seq", "prev", "at", "key", "kind"})
_FIELDS = {
    RECORD: _COMMON | {"record_type", "record_id", "version", "consent", "payload_hash", "relay"},
    TOMBSTONE: _COMMON | {"record_type", "record_id", "version", "reason"},
    KEY: _COMMON | {"key_event"},
    TALLY: _COMMON | {"record_type", "record_id", "version", "consent", "payload_hash"},
    SEALED: _COMMON | {"record_type", "record_id", "version", "consent", "payload_hash",
                       "sealed"},
}
_CONSENT_FIELDS = frozenset({"audiences", "purposes", "expires"})
# A record entry of a record type's version 2 or later says so; version 1 is said by leaving
# the field out, never by writing it (one form per entry), so entries (and the golden vectors)
# of record types that never changed are as before.
TYPE_VERSION = "type_version"
MAX_TYPE_VERSION = 1000


def entry_body(**fields: Any) -> dict:
    """The JSON object of a new entry (``federation.outbox`` fills in the fields)."""
    return {"type": ENTRY_TYPE, **fields}


def read_entry(raw: bytes) -> Entry:
    """Check an entry's form (not its signature or place in a chain) and return it.

    Every field is checked by type and pattern; this runs once per entry received, so it is
    written plainly rather than generically.
    """
    raw = raw if type(raw) is bytes else bytes(raw)
    body = read_canonical(raw, "entry-invalid", typed=True)  # every field is checked below
    if type(body) is not dict or body.get("type") != ENTRY_TYPE:
        raise Refused("entry-invalid", "not an entry")
    kind = body.get("kind")
    said = body.pop(TYPE_VERSION, None) if kind in (RECORD, SEALED) else None
    if kind not in _FIELDS or body.keys() != _FIELDS[kind] or not (
            said is None or _positive(said) and 1 < said <= MAX_TYPE_VERSION):
        raise Refused("entry-invalid", "unexpected fields")
    type_version = said or 1
    origin, feed, seq, prev, key = (body["origin"], body["feed"], body["seq"], body["prev"],
                                    body["key"])
    if not (_is_id(origin) and feed in ENTRY_FEEDS and _positive(seq) and _is_hex(prev)
            and _is_id(key)):
        raise Refused("entry-invalid", "a field has the wrong form")
    common = (raw, sha256_hex(raw), origin, feed, seq, prev, parse_at(body["at"]), key, kind)
    if kind == KEY:
        return Entry(*common, key_event=_key_event(body["key_event"]))
    record_type, record_id, version = body["record_type"], body["record_id"], body["version"]
    if not (type(record_type) is str and RECORD_TYPE.match(record_type)
            and type(record_id) is str and UUID.match(record_id) and _positive(version)):
        raise Refused("entry-invalid", "a field has the wrong form")
    if kind == TOMBSTONE:
        if body["reason"] not in TOMBSTONE_REASONS:
            raise Refused("entry-invalid", "a field has the wrong form")
        return Entry(*common, record_type, record_id, version, reason=body["reason"])
    if kind == TALLY:
        return _tally(common, body, record_type, record_id, version)
    if kind == SEALED:
        return _sealed(common, body, record_type, record_id, version, type_version)
    relay = body["relay"]
    if not _is_hex(body["payload_hash"]) or type(relay) is not bool:
        raise Refused("entry-invalid", "a field has the wrong form")
    if relay and feed != HUB:
        raise Refused("entry-invalid", "only hub entries are relayed")
    return Entry(*common, record_type, record_id, version, _consent(body["consent"]),
                 body["payload_hash"], relay, type_version=type_version)


def _tally(common: tuple, body: dict, record_type: str, record_id: str, version: int) -> Entry:
    """A tally entry: in the ``hub`` feed only, under a consent that covers ``statistics``
    and ``public-aggregate`` and not the hub itself (else the record is shared as such)."""
    terms = _consent(body["consent"])
    if common[3] != HUB or not _is_hex(body["payload_hash"]) or \
            "statistics" not in terms["purposes"] or "public-aggregate" not in \
            terms["audiences"] or HUB in terms["audiences"]:
        raise Refused("tally-invalid", "a tally entry's feed or consent")
    return Entry(*common, record_type, record_id, version, terms, body["payload_hash"])


def _sealed(common: tuple, body: dict, record_type: str, record_id: str, version: int,
            type_version: int) -> Entry:
    """A sealed entry: in the ``hub`` feed only, under a consent that covers partner nodes
    and not the hub (else the record is shared as such), to distinct recipients, sorted."""
    terms, sealed = _consent(body["consent"]), body["sealed"]
    if common[3] != HUB or not _is_hex(body["payload_hash"]) or "peers" not in \
            terms["audiences"] or HUB in terms["audiences"] or type(sealed) is not dict or \
            sealed.keys() != {"to", "content_hash"} or not _is_hex(sealed["content_hash"]):
        raise Refused("sealed-invalid", "a sealed entry's feed, consent or form")
    to = sealed["to"]
    if type(to) is not list or not 0 < len(to) <= MAX_RECIPIENTS or \
            not all(_is_id(node) for node in to) or to != sorted(set(to)):
        raise Refused("sealed-invalid", "a sealed entry's recipients")
    return Entry(*common, record_type, record_id, version, terms, body["payload_hash"],
                 type_version=type_version, sealed=sealed)



def _is_id(value: Any) -> bool:
    return type(value) is str and NODE_ID.match(value) is not None


def _is_hex(value: Any) -> bool:
    return type(value) is str and HEX64.match(value) is not None


def _consent(value: Any) -> dict:
    if type(value) is not dict or value.keys() != _CONSENT_FIELDS:
        raise Refused("entry-invalid", "bad consent")
    for name, allowed in (("audiences", _AUDIENCES), ("purposes", _PURPOSES)):
        if not _some_of(value[name], allowed):
            raise Refused("entry-invalid", f"bad consent {name}")
    if value["expires"] is not None:
        parse_day(value["expires"])
    return value


_AUDIENCES, _PURPOSES = frozenset(CONSENT_AUDIENCES), frozenset(CONSENT_PURPOSES)


def _some_of(items: Any, allowed: frozenset) -> bool:
    """A non-empty list of distinct names from ``allowed``."""
    try:
        return (type(items) is list and len(items) > 0 and allowed.issuperset(items)
                and len(set(items)) == len(items))
    except TypeError:  # a list or object among them
        return False


def _key_event(value: Any) -> dict:
    if type(value) is not dict:
        raise Refused("entry-invalid", "bad key event")
    if value.get("action") == "rotate" and value.keys() == {"action", "key_id", "public_key"}:
        if not _is_id(value["key_id"]):
            raise Refused("entry-invalid", "bad key event")
        unb64(value["public_key"], 32, code="entry-invalid")
        return value
    if value.get("action") == "encrypt" and value.keys() == {"action", "key_id", "public_key"}:
        # 1.1: the node's X25519 key for sealed payloads (its key id in its own context)
        public = unb64(value["public_key"], 32, code="entry-invalid")
        if value["key_id"] != encryption_key_id(public):
            raise Refused("entry-invalid", "bad key event")
        return value
    if value.get("action") == "revoke" and value.keys() == {"action", "key_id", "revoked_at"}:
        if not _is_id(value["key_id"]):
            raise Refused("entry-invalid", "bad key event")
        parse_at(value["revoked_at"])
        return value
    raise Refused("entry-invalid", "bad key event")


def _positive(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_INT


def read_payload(text: Any, entry: Entry) -> bytes | None:
    """Check a payload travelling beside ``entry`` against the hash the entry signs."""
    if text is None:
        return None  # purged at the origin or on the way: the entry still verifies
    if entry.kind not in (RECORD, TALLY, SEALED) or not isinstance(text, str):
        raise Refused("payload-mismatch", "a payload beside a non-record entry")
    data = text.encode("utf-8")
    if sha256_hex(data) != entry.payload_hash:
        raise Refused("payload-mismatch")
    value = read_canonical(data, "payload-mismatch")
    if not isinstance(value, dict):
        raise Refused("payload-mismatch", "a payload must be an object")
    if entry.kind == TALLY:
        read_tally(value)
    elif entry.kind == SEALED:
        read_sealed(value, entry)
    return data


def read_sealed(value: dict, entry: Entry) -> dict:
    """Check a sealed payload's form (a hub cannot open it): one box per recipient the entry
    names, in its order, each of a content key's size, and the ciphertext."""
    if value.keys() != {"type", "boxes", "nonce", "ciphertext"} or \
            value["type"] != SEALED_TYPE or type(value["boxes"]) is not list:
        raise Refused("sealed-invalid", "not a sealed payload")
    if [box.get("to") if type(box) is dict else None for box in value["boxes"]] != \
            entry.sealed["to"]:
        raise Refused("sealed-invalid", "its boxes are not for the entry's recipients")
    for box in value["boxes"]:
        if box.keys() != {"to", "key", "box"} or not _is_id(box["key"]):
            raise Refused("sealed-invalid", "a box has the wrong form")
        unb64(box["box"], SEALED_BOX_BYTES, code="sealed-invalid")
    unb64(value["nonce"], 24, code="sealed-invalid")
    if len(unb64(value["ciphertext"], code="sealed-invalid")) < 16:
        raise Refused("sealed-invalid", "no ciphertext")
    return value


SEALED_BOX_BYTES = 32 + 48  # a 32-byte content key in a NaCl sealed box


# -- tallies -------------------------------------------------------------------------------

# What a tally's payload may hold: the counted dimensions of a case, each a code (the
# vocabularies of the dimensions that have one are checked by ``federation.tally``).
TALLY_CASE = frozenset({"status", "defender", "incidents"})
TALLY_DEFENDER = frozenset({"age", "activism"})
TALLY_INCIDENT = frozenset({"occurred_on", "place", "violation", "perpetrator_type"})
MAX_TALLY_ITEMS = 50
TALLY_CODE = re.compile(r"^[a-z0-9][a-z0-9_.+-]{0,39}\Z")
TALLY_PLACE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?\Z")  # a country or a governorate
TALLY_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])\Z")
TALLY_AGE = re.compile(r"^\d{1,3}(-\d{1,3}|\+)?\Z")  # an age band: "18-29", "60+"


def read_tally(value: Any) -> dict:
    """Check a tally's payload: only the counted dimensions, every value a code, a place no
    finer than a governorate, a date no finer than a month; anything else ``tally-invalid``."""
    if type(value) is not dict or not value.keys() <= TALLY_CASE:
        raise Refused("tally-invalid", "unexpected fields")
    _tally_code(value.get("status"))
    defender = value.get("defender", {})
    if type(defender) is not dict or not defender.keys() <= TALLY_DEFENDER:
        raise Refused("tally-invalid", "unexpected defender fields")
    _tally_code(defender.get("age"), pattern=TALLY_AGE)
    activism = defender.get("activism", [])
    incidents = value.get("incidents", [])
    if type(activism) is not list or type(incidents) is not list or \
            len(activism) > MAX_TALLY_ITEMS or len(incidents) > MAX_TALLY_ITEMS:
        raise Refused("tally-invalid", "a list has the wrong form")
    for code in activism:
        _tally_code(code, required=True)
    for incident in incidents:
        if type(incident) is not dict or not incident.keys() <= TALLY_INCIDENT:
            raise Refused("tally-invalid", "unexpected incident fields")
        _tally_code(incident.get("occurred_on"), pattern=TALLY_MONTH)
        _tally_code(incident.get("place"), pattern=TALLY_PLACE)
        _tally_code(incident.get("violation"))
        _tally_code(incident.get("perpetrator_type"))
    return value


def _tally_code(value: Any, *, pattern: re.Pattern = TALLY_CODE, required: bool = False):
    if value is None and not required:
        return
    if type(value) is not str or not pattern.match(value):
        raise Refused("tally-invalid", "a value is not a code")


# -- signed documents (node documents, receipts, vouches, certificates) ---------------------


def envelope(text: bytes, signature: bytes) -> dict:
    return {"signed": text.decode("utf-8"), "sig": b64(signature)}


def open_envelope(value: Any, expected_type: str, code: str = "bad-request"
                  ) -> tuple[bytes, dict, bytes]:
    """Return (signed bytes, their object, signature) of an envelope, checking its form."""
    if not isinstance(value, dict) or set(value) != {"signed", "sig"}:
        raise Refused(code, "not an envelope")
    if not isinstance(value["signed"], str):
        raise Refused(code, "not an envelope")
    raw = value["signed"].encode("utf-8")
    body = read_canonical(raw, code)
    if not isinstance(body, dict) or body.get("type") != expected_type:
        raise Refused(code, "unexpected document type")
    return raw, body, unb64(value["sig"], 64, code=code)
