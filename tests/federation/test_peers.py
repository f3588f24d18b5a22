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
