"""Protocol objects: RFC 8785 canonical text, strict JSON, entries and their golden bytes."""

import hashlib
import json
import re
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from federation import identity, protocol
from federation.reasons import Refused

VECTORS = Path(__file__).parent / "vectors"


def vector(name):
    return json.loads((VECTORS / name).read_text())


# -- RFC 8785 ---------------------------------------------------------------------------------


def test_rfc8785_primitives_canonicalise_byte_for_byte():
    sample = vector("rfc8785-jcs.json")["vectors"][0]
    value = json.loads(sample["input_json_text"])
    assert protocol.canonical(value).hex() == sample["canonical_utf8_hex"]


def test_rfc8785_sorts_properties_by_utf16_code_units():
    sample = vector("rfc8785-jcs.json")["vectors"][1]
    text = protocol.canonical(json.loads(sample["input_json_text"])).decode("utf-8")
    assert list(json.loads(text).values()) == sample["expected_value_order"]


def test_arabic_text_stays_utf8_in_canonical_form():
    assert protocol.canonical({"n": "سلمى"}) == '{"n":"سلمى"}'.encode()


# -- strict reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ['{"a":1,"a":2}', '{"x":{"b":1,"b":1}}', '[{"k":1,"k":1}]'])
def test_duplicate_keys_are_refused_at_any_depth(text):
    with pytest.raises(Refused) as refused:
        protocol.strict_loads(text.encode())
    assert refused.value.code == "duplicate-key"


@pytest.mark.parametrize("data", [b"\xff\xfe{}", b'{"a": NaN}', b"[Infinity]", b"{", b"",
                                  "[1]".encode("utf-16")])
def test_invalid_json_text_is_refused(data):
    with pytest.raises(Refused) as refused:
        protocol.strict_loads(data)
    assert refused.value.code == "json-invalid"


def test_deep_nesting_is_refused_not_crashed():
    with pytest.raises(Refused):
        protocol.strict_loads(b"[" * 100000 + b"]" * 100000)


# -- golden entries -------------------------------------------------------------------------


GOLDEN = vector("golden-entries.json")


def golden_key(number=0):
    return SigningKey(hashlib.sha256(GOLDEN["seed_phrases"][number].encode()).digest())


def test_golden_node_id_and_fingerprint_derive_from_the_key():
    public = bytes(golden_key().verify_key)
    assert protocol.b64(public) == GOLDEN["public_key"]
    assert identity.key_id_of(public) == GOLDEN["node_id"]
    assert identity.fingerprint(public) == GOLDEN["fingerprint"]


@pytest.mark.parametrize("number", range(len(GOLDEN["entries"])))
def test_golden_entries_canonicalise_hash_and_sign_byte_for_byte(number):
    golden = GOLDEN["entries"][number]
    text = protocol.canonical(golden["fields"])
    assert text.decode() == golden["canonical"]
    assert protocol.sha256_hex(text) == golden["hash"]
    signer = golden_key(0 if golden["fields"]["key"] == GOLDEN["node_id"] else 1)
    assert protocol.b64(signer.sign(text).signature) == golden["signature"]
    entry = protocol.read_entry(text)
    assert (entry.origin, entry.seq, entry.kind) == (GOLDEN["node_id"], number + 1,
                                                    golden["fields"]["kind"])
    assert identity.verify(bytes(signer.verify_key), text, protocol.unb64(golden["signature"]))


def test_golden_entries_form_a_chain_and_the_payload_matches_its_hash():
    previous = protocol.GENESIS
    for golden in GOLDEN["entries"]:
        assert golden["fields"]["prev"] == previous
        previous = golden["hash"]
    record = protocol.read_entry(GOLDEN["entries"][0]["canonical"].encode())
    assert protocol.read_payload(GOLDEN["payload"], record) == GOLDEN["payload"].encode()
    assert record.expires_on.isoformat() == "2027-01-01"


# -- entry forms ----------------------------------------------------------------------------


def record_fields(**changes):
    fields = dict(GOLDEN["entries"][0]["fields"])
    fields.update(changes)
    return fields


@pytest.mark.parametrize("changes", [
    {"seq": 0}, {"seq": -1}, {"seq": 2**53}, {"seq": "1"}, {"seq": 1.5}, {"seq": True},
    {"origin": "NOTANODE"}, {"feed": "public"}, {"kind": "gossip"}, {"prev": "00"},
    {"at": "2026-01-15 09:30:00"}, {"at": "2026-13-15T09:30:00Z"}, {"key": ""},
    {"record_id": "../etc/passwd"}, {"record_type": "Testimony"}, {"version": 0},
    {"payload_hash": "x" * 64}, {"relay": "yes"}, {"relay": True},
    {"consent": {"audiences": ["everyone"], "purposes": ["advocacy"], "expires": None}},
    {"consent": {"audiences": [], "purposes": ["advocacy"], "expires": None}},
    {"consent": {"audiences": ["hub", "hub"], "purposes": ["advocacy"], "expires": None}},
    {"consent": {"audiences": ["hub"], "purposes": ["advocacy"], "expires": "soon"}},
    {"consent": {"audiences": ["hub"], "purposes": ["advocacy"]}},
    # lists or objects among the names: refused, not a crash (they cannot be hashed)
    {"consent": {"audiences": [["hub"]], "purposes": ["advocacy"], "expires": None}},
    {"consent": {"audiences": ["hub"], "purposes": [{}], "expires": None}},
    {"consent": {"audiences": ["hub", 1], "purposes": ["advocacy"], "expires": None}},
    {"consent": {"audiences": "hub", "purposes": ["advocacy"], "expires": None}},
    {"at": "2026-02-30T09:30:00Z"}, {"at": "2026-01-15T24:00:00Z"},
    {"at": "2026-01-15T09:30:00+00:00"},
    {"extra": 1}, {"type": "rabita.entry/2"},
])
def test_malformed_entries_are_refused(changes):
    with pytest.raises(Refused) as refused:
        protocol.read_entry(compact_text(record_fields(**changes)))
    assert refused.value.code == "entry-invalid"
    # refused for the field's form, not for the way the text is written
    assert refused.value.detail != "not RFC 8785 canonical text"


def compact_text(fields: dict) -> bytes:
    """The text RFC 8785 would write for these plain values (also for those it refuses to
    write, such as an integer past 2**53), so that only the field's form is wrong."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_the_golden_entry_written_compactly_is_read():
    # what makes the refusals above meaningful: the same writing of good fields is accepted
    assert protocol.read_entry(compact_text(record_fields())).seq == record_fields()["seq"]


LINE_ENDS = ["\n", "\r\n", "\u2028", " "]


@pytest.mark.parametrize("ending", LINE_ENDS)
@pytest.mark.parametrize("name", ["origin", "prev", "key", "record_id", "record_type", "at",
                                  "payload_hash"])
def test_a_field_with_a_line_end_after_its_value_is_refused(name, ending):
    # Python's ``$`` also matches before a final newline: a well-signed entry whose record id
    # ends with one was stored as sent until the patterns were anchored with ``\Z``.
    fields = record_fields()
    fields[name] = fields[name] + ending
    with pytest.raises(Refused) as refused:
        protocol.read_entry(protocol.canonical(fields))
    assert refused.value.code == "entry-invalid"


@pytest.mark.parametrize("pattern", [value for name, value in vars(protocol).items()
                                     if isinstance(value, re.Pattern) and name.isupper()
                                     and value.pattern.startswith("^")])
def test_every_anchored_pattern_of_the_protocol_ends_at_the_very_end(pattern):
    assert pattern.pattern.endswith("\\Z"), pattern.pattern


def test_an_entry_missing_a_field_is_refused():
    fields = record_fields()
    del fields["version"]
    with pytest.raises(Refused):
        protocol.read_entry(protocol.canonical(fields))


def test_a_payload_that_does_not_match_its_hash_is_refused():
    record = protocol.read_entry(GOLDEN["entries"][0]["canonical"].encode())
    changed = GOLDEN["payload"].replace("TN-61", "TN-11")
    with pytest.raises(Refused) as refused:
        protocol.read_payload(changed, record)
    assert refused.value.code == "payload-mismatch"


def test_a_payload_beside_a_tombstone_is_refused():
    tombstone = protocol.read_entry(GOLDEN["entries"][2]["canonical"].encode())
    with pytest.raises(Refused):
        protocol.read_payload(GOLDEN["payload"], tombstone)


def test_a_purged_payload_leaves_an_entry_that_still_verifies():
    record = protocol.read_entry(GOLDEN["entries"][0]["canonical"].encode())
    assert protocol.read_payload(None, record) is None


def test_envelopes_are_read_strictly():
    text = protocol.canonical({"type": protocol.RECEIPT_TYPE, "x": 1})
    envelope = protocol.envelope(text, b"\x01" * 64)
    raw, body, signature = protocol.open_envelope(envelope, protocol.RECEIPT_TYPE)
    assert raw == text and body["x"] == 1 and signature == b"\x01" * 64
    for broken in ({**envelope, "extra": 1}, {"signed": 5, "sig": envelope["sig"]},
                   {"signed": envelope["signed"], "sig": "AAAA"}):
        with pytest.raises(Refused):
            protocol.open_envelope(broken, protocol.RECEIPT_TYPE)
    with pytest.raises(Refused):
        protocol.open_envelope(envelope, protocol.VOUCH_TYPE)


@pytest.mark.parametrize("text", [b'{"a":"\\ud800"}', b'["x",["\\uDFFF"]]', b'{"\\udbff":1}',
                                  b'"\\ud83d"'])
def test_lone_surrogates_are_refused(text):
    with pytest.raises(Refused) as refused:
        protocol.strict_loads(text)
    assert refused.value.code == "json-invalid"


@pytest.mark.parametrize(("text", "value"), [
    (b'"\\ud83d\\ude00"', "\U0001f600"),  # a pair: one character
    (b'"\\\\ud800"', "\\ud800"),  # an escaped backslash, then letters
    (b'"\\u00e9"', "\u00e9"),
])
def test_whole_characters_written_as_escapes_are_read(text, value):
    assert protocol.strict_loads(text) == value


@pytest.mark.parametrize("canonical", [False, True])
@pytest.mark.parametrize("text", [
    b'{"a":1,"b":[true,null,"\\u00e9"]}', b'{"b":1,"a":2}', b'{ "a" : 1 }',
    b'[18446744073709551617]', b'{"a":"\\ud83d\\ude00"}', b'{"a":1.5}', b'"x"',
])
def test_reading_written_text_gives_what_strict_reading_gives(text, canonical):
    value = protocol.strict_loads_written(text, canonical=canonical)
    assert value == protocol.strict_loads(text)
    assert type(value) is type(protocol.strict_loads(text))


@pytest.mark.parametrize(("text", "code"), [
    (b'{"a":1,"a":1}', "duplicate-key"), (b'{"a":{"b":1,"b":1}}', "duplicate-key"),
    (b'{"a":"\\ud800"}', "json-invalid"), (b'{"a":NaN}', "json-invalid"),
    (b'\xef\xbb\xbf{}', "json-invalid"), (b'{"a":1', "json-invalid"),
])
def test_reading_written_text_refuses_what_strict_reading_refuses(text, code):
    for canonical in (False, True):
        with pytest.raises(Refused) as refused:
            protocol.strict_loads_written(text, canonical=canonical)
        assert refused.value.code == code
