"""Node ids, fingerprints read aloud, and the signed node document."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from federation import identity, protocol, signing
from federation.reasons import Refused


@pytest.fixture
def node_app(federation_app):
    return federation_app(FEDERATION_URL="https://tunis.example.org", FEDERATION_ROLE="node")


def test_a_fingerprint_is_eight_groups_of_five_digits():
    assert re.fullmatch(r"(\d{5} ){7}\d{5}", identity.fingerprint(b"\x01" * 32))
    assert identity.fingerprint(b"\x01" * 32) != identity.fingerprint(b"\x02" * 32)


def test_what_an_administrator_types_is_normalised():
    printed = identity.fingerprint(b"\x01" * 32)
    arabic = printed.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")).replace(" ", "-")
    assert identity.normalise_fingerprint(arabic) == printed
    assert identity.normalise_fingerprint(printed.replace(" ", "")) == printed


def test_ids_are_short_base32_words():
    assert re.fullmatch(r"[a-z2-7]{32}", identity.key_id_of(b"\x01" * 32))


def test_the_node_document_verifies_and_says_who_the_node_is(node_app):
    with node_app.app_context():
        document = identity.read_node_document(identity.node_document())
        own = signing.identity()
    assert document.node_id == own.node_id and document.role == "node"
    assert document.url == "https://tunis.example.org"
    assert document.name == ""  # the group's name stays off the network unless set
    assert document.fingerprint == identity.fingerprint(own.genesis.public_key)


def test_a_changed_node_document_is_refused(node_app):
    with node_app.app_context():
        envelope = identity.node_document()
    body = json.loads(envelope["signed"])
    body["url"] = "https://attacker.example"
    forged = {"signed": protocol.canonical(body).decode(), "sig": envelope["sig"]}
    with pytest.raises(Refused) as refused:
        identity.read_node_document(forged)
    assert refused.value.code == "signature-invalid"


def test_after_rotation_the_document_chains_the_new_key_to_the_first(node_app):
    with node_app.app_context():
        signing.rotate()
        document = identity.read_node_document(identity.node_document())
        own = signing.identity()
    assert document.current == own.current != own.node_id
    assert [k.key_id for k in document.keys] == [k.key_id for k in own.keys]


def test_a_key_not_certified_by_the_previous_one_is_refused(node_app, make_app):
    with node_app.app_context():
        signing.rotate()
        keys = [k.as_json() for k in signing.identity().keys]
    keys[1]["valid_from"] = "2020-01-01T00:00:00Z"  # the certificate says otherwise
    with pytest.raises(Refused):
        identity.read_key_chain(keys[0]["key_id"], keys)
    with pytest.raises(Refused):
        identity.read_key_chain(keys[1]["key_id"], keys)  # the first key is not the node's


def test_a_key_may_sign_only_within_its_time():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    key = identity.KeyInfo("k" * 32, b"\x01" * 32, start, superseded_at=start + timedelta(days=1),
                           revoked_at=start + timedelta(hours=12))
    assert key.may_sign_at(start + timedelta(hours=1)) is None
    assert key.may_sign_at(start + timedelta(hours=13)) == "key-revoked"
    assert key.may_sign_at(start - timedelta(hours=1)) == "key-superseded"
    rotated = identity.KeyInfo("k" * 32, b"\x01" * 32, start, superseded_at=start)
    assert rotated.may_sign_at(start) is None  # the rotation entry itself
    assert rotated.may_sign_at(start + timedelta(seconds=1)) == "key-superseded"


def test_the_pairing_qr_code_is_inline_svg():
    svg = str(identity.qr_svg("rabita:pair?fp=1234"))
    assert svg.startswith("<svg") and "http" not in svg.split(">", 1)[0].replace(
        "http://www.w3.org/2000/svg", "")
