"""Pairing out of band, with no trust on first use: both sides approve, then entries flow."""

import pytest

from core.extensions import db
from federation import identity, peers
from federation.reasons import Refused
from tests.federation.conftest import Origin, share_testimony


def states(node):
    with node.context():
        return {p.node_id: p.state for p in peers.everyone()}


def test_pairing_with_the_command_line(make_node):
    tunis, sfax = make_node("tunis"), make_node("sfax")
    added = tunis.cli("peers", "add", sfax.url, "--fingerprint", sfax.fingerprint,
                      "--label", "sfax")
    assert added.returncode == 0, added.stderr
    assert "Added and approved" in added.stdout and tunis.fingerprint in added.stdout
    listed = sfax.cli("peers", "list")
    assert f"{tunis.node_id}\t-\tnode\trequested" in listed.stdout
    wrong = sfax.cli("peers", "approve", tunis.node_id[:8], "--fingerprint", "12345 67890")
    assert wrong.returncode == 1 and "fingerprint-mismatch" in wrong.stderr
    approved = sfax.cli("peers", "approve", tunis.node_id[:8], "--fingerprint",
                        tunis.fingerprint)
    assert approved.returncode == 0, approved.stderr
    assert states(tunis) == {sfax.node_id: "approved"}
    assert states(sfax) == {tunis.node_id: "approved"}
    synced = tunis.cli("sync", "--quiet")
    assert synced.returncode == 0 and "sfax: 0 entries" in synced.stdout


def test_a_wrong_fingerprint_stores_nothing_on_either_side(make_node):
    tunis, sfax = make_node("tunis"), make_node("sfax")
    result = tunis.cli("peers", "add", sfax.url, "--fingerprint", tunis.fingerprint)
    assert result.returncode == 1 and "fingerprint-mismatch" in result.stderr
    assert states(tunis) == {} and states(sfax) == {}


def test_until_both_approve_nothing_flows(make_node, people):
    tunis, sfax = make_node("tunis"), make_node("sfax")
    salma, huda = people(tunis)
    share_testimony(tunis, salma, huda)
    with sfax.context():
        peers.add(tunis.url, tunis.fingerprint, "tunis", None)  # sfax approves tunis...
    assert sfax.sync() == {"tunis": "peer-not-approved"}  # ...tunis has not approved sfax
    assert states(tunis) == {sfax.node_id: "requested"}
    assert tunis.sync() == {}  # tunis pulls from nobody it has not approved
    with tunis.context():
        peers.approve(peers.find(sfax.node_id), sfax.fingerprint, None)
    assert sfax.sync() == {"tunis": None}
    from federation import inbox

    with sfax.context():
        assert len(inbox.held_payloads(tunis.node_id)) == 1


def test_a_removed_peer_is_refused(two_nodes):
    tunis, sfax = two_nodes
    with tunis.context():
        peers.remove(peers.find(sfax.node_id), None)
    assert sfax.sync() == {"tunis": "peer-not-approved"}


def test_waiting_requests_are_bounded(federation_app):
    app = federation_app(FEDERATION_MAX_PENDING=2)
    with app.app_context():
        for seed in range(2):
            peers.receive_request(_document(Origin(seed=40 + seed)))
        db.session.commit()
        with pytest.raises(Refused) as refused:
            peers.receive_request(_document(Origin(seed=50)))
        assert refused.value.code == "too-many-requests"


def _document(origin):
    from datetime import UTC, datetime

    key = identity.KeyInfo(origin.node_id, origin.public, datetime(2026, 1, 1, tzinfo=UTC))
    return identity.NodeDocument(origin.node_id, "", "node", "", (key,), origin.node_id)


def test_a_peer_is_found_by_id_prefix_or_label(two_nodes):
    tunis, sfax = two_nodes
    with tunis.context():
        assert peers.find(sfax.node_id[:6]).node_id == sfax.node_id
        assert peers.find("sfax").node_id == sfax.node_id
        assert peers.find("") is None and peers.find("zzz-nobody") is None


def test_a_label_is_not_shadowed_by_node_ids_that_begin_with_its_letters(federation_app):
    """Issue 19, Found 8: at 8a0d646 `rabita peers … hub` matched no one when another peer's
    node id began with "hub" (the label and the prefix both matched)."""
    from federation.models import Peer

    app = federation_app()
    the_hub, lookalike, twin = "a" * 32, "hubz" + "b" * 28, "hubz" + "c" * 28
    with app.app_context():
        for node_id, label in ((the_hub, "hub"), (lookalike, "tunis"), (twin, "")):
            db.session.add(Peer(node_id=node_id, state="approved", role="node", label=label,
                                url="http://127.0.0.1:9"))
        db.session.commit()
        assert peers.find("hub").node_id == the_hub  # the label, whole
        assert peers.find(lookalike).node_id == lookalike  # a whole node id first
        assert peers.find("hubzb").node_id == lookalike  # an unambiguous prefix
        assert peers.find("hu") is None  # too short to stand for a node id
        assert peers.find("h%") is None  # typed, not a pattern
        with pytest.raises(peers.AmbiguousPeer) as ambiguous:
            peers.find("hubz")
        assert lookalike in str(ambiguous.value) and twin in str(ambiguous.value)


def test_the_command_line_says_which_peers_a_name_could_mean(make_node):
    from federation.models import Peer

    tunis = make_node("tunis", serve=False)
    with tunis.context():
        for node_id in ("hubz" + "b" * 28, "hubz" + "c" * 28):
            db.session.add(Peer(node_id=node_id, state="approved", role="node", label="",
                                url="http://127.0.0.1:9"))
        db.session.commit()
    answer = tunis.cli("peers", "remove", "hubz")
    assert answer.returncode == 1
    assert "names 2 peers" in answer.stderr and "hubz" + "b" * 28 in answer.stderr
    assert states(tunis) == {"hubz" + "b" * 28: "approved", "hubz" + "c" * 28: "approved"}


# -- strangers' requests: per client, expiry, refusing them all ----------------------------------


def stranger_document(seed: int) -> tuple[dict, str, object]:
    """A node document nobody vouches for, with a key made for the test (anyone can)."""
    import hashlib
    from datetime import UTC, datetime

    from nacl.signing import SigningKey

    from core import clock
    from federation import protocol

    key = SigningKey(hashlib.sha256(f"stranger {seed}".encode()).digest())
    public = bytes(key.verify_key)
    node_id = identity.key_id_of(public)
    info = identity.KeyInfo(node_id, public, datetime(2026, 1, 1, tzinfo=UTC))
    body = {"type": protocol.NODE_TYPE, "node_id": node_id, "name": "", "role": "node",
            "url": "", "at": protocol.at_text(clock.now()), "key": node_id,
            "keys": [info.as_json() | {"certificate": None}], "endpoints": identity.ENDPOINTS}
    text = protocol.canonical(body)
    return protocol.envelope(text, key.sign(text).signature), node_id, key


def ask_to_pair(node, seed: int, address: str) -> tuple[int, str]:
    """A signed pairing request over real HTTP, sent from ``address`` (127.0.0.0/8 reaches
    the node from as many clients as a test needs); the answer's status and reason."""
    import http.client

    from core import clock
    from federation import protocol, transport

    document, node_id, key = stranger_document(seed)
    body = protocol.dumps({"type": protocol.PAIR_TYPE, "document": document,
                           "to": node.node_id})
    headers = transport.Headers([("Content-Type", "application/json")])
    request = transport.Request("POST", f"{node.url}/federation/pair", headers)
    transport.sign(request, body, key_id=node_id, now=clock.now(),
                   sign_bytes=lambda data: key.sign(data).signature)
    connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30,
                                            source_address=(address, 0))
    try:
        connection.request("POST", "/federation/pair", body=body, headers=headers.as_dict())
        answer = connection.getresponse()
        return answer.status, protocol.strict_loads(answer.read()).get("error", "")
    finally:
        connection.close()


def test_a_flood_from_one_client_is_limited_while_another_gets_through(make_node):
    sfax = make_node("sfax", plugins=["federation"])  # pairing needs no record type
    flood = [ask_to_pair(sfax, seed, "127.0.0.2") for seed in range(12)]
    assert flood[:3] == [(200, "")] * 3  # FEDERATION_REQUESTS_PER_CLIENT
    assert flood[3:] == [(429, "too-many-requests")] * 9
    # A request already waiting is no new one: its node may ask again from anywhere.
    assert ask_to_pair(sfax, 0, "127.0.0.2") == (200, "")
    # Another client is not held back by the flood.
    assert ask_to_pair(sfax, 100, "127.0.0.3") == (200, "")
    assert ask_to_pair(sfax, 101, "127.0.0.4") == (200, "")
    with sfax.context():
        waiting = {peer.node_id for peer in peers.waiting()}
    assert waiting == {stranger_document(seed)[1] for seed in (0, 1, 2, 100, 101)}


def test_a_client_gets_its_share_again_an_hour_later(federation_app, fake_clock):
    app = federation_app()
    with app.app_context():
        for seed in range(3):
            peers.receive_request(_document(Origin(seed=60 + seed)), client="192.0.2.7")
        with pytest.raises(Refused):
            peers.receive_request(_document(Origin(seed=70)), client="192.0.2.7")
        fake_clock.advance(minutes=61)
        peers.receive_request(_document(Origin(seed=70)), client="192.0.2.7")
        db.session.commit()
        assert len(peers.waiting()) == 4


def test_the_client_count_holds_no_address(federation_app):
    app = federation_app()
    with app.app_context():
        peers.receive_request(_document(Origin(seed=80)), client="198.51.100.23")
        generations = peers.requests_by_client()._generations
    names = [name for _key, _made, counts in generations for name in counts]
    assert names and all(b"198.51" not in name for name in names)
    import hashlib

    assert hashlib.sha256(b"198.51.100.23").digest() not in names  # keyed, not a bare hash


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_expired_requests_do_not_count_and_are_forgotten(federation_app, fake_clock):
    from sqlalchemy import func, select

    from federation.models import Key, Peer

    app = federation_app(FEDERATION_MAX_PENDING=2)
    with app.app_context():
        for seed in range(2):
            peers.receive_request(_document(Origin(seed=40 + seed)), client=f"client-{seed}")
        db.session.commit()
        with pytest.raises(Refused):
            peers.receive_request(_document(Origin(seed=50)), client="client-9")
        db.session.rollback()
        fake_clock.advance(days=7, seconds=1)
        assert peers.waiting() == [] and peers.waiting_count() == 0
        peers.receive_request(_document(Origin(seed=50)), client="client-9")
        db.session.commit()
        # The expired ones are gone, with the keys they brought; the new one waits.
        assert [p.node_id for p in peers.waiting()] == [Origin(seed=50).node_id]
        assert db.session.scalar(select(func.count()).select_from(Peer)) == 1
        assert set(db.session.scalars(select(Key.origin))) == {Origin(seed=50).node_id}


def test_an_expired_request_of_a_node_is_renewed_when_it_asks_again(federation_app, fake_clock):
    app = federation_app()
    with app.app_context():
        peers.receive_request(_document(Origin(seed=90)), client="a")
        db.session.commit()
        fake_clock.advance(days=8)
        peers.receive_request(_document(Origin(seed=90)), client="a")
        db.session.commit()
        (waiting,) = peers.waiting()
        assert waiting.requested_at == fake_clock() and waiting.node_id == Origin(seed=90).node_id


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_refusing_all_forgets_every_waiting_request_and_is_audited(federation_app, fake_clock):
    from sqlalchemy import select

    from core.models import AuditEntry

    app = federation_app()
    with app.app_context():
        two_nodes_paired = Origin(seed=30)
        two_nodes_paired.pin(app)  # an approved peer: refusing requests leaves it alone
        for seed in range(3):
            peers.receive_request(_document(Origin(seed=10 + seed)), client=f"c{seed}")
            fake_clock.advance(minutes=1)
        db.session.commit()
        assert peers.refuse_all(None) == 3
        assert peers.waiting() == [] and [p.node_id for p in peers.approved()] == [
            two_nodes_paired.node_id]
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry.action == "federation.pair_requests_refused" and '"count":3' in \
            entry.details.replace(" ", "")
        # A refused node may ask again: nothing of it was kept.
        peers.receive_request(_document(Origin(seed=10)), client="c9")
        assert len(peers.waiting()) == 1
