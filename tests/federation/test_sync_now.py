"""'Sync now' from the partner page: a round in the background, its progress and its result
said in words; one at a time; refused while locked; nothing for a peer that is not paired."""

import time

from core import keystore
from core.testing import signed_in_client
from federation import inbox, peers, sync_now
from tests.federation.conftest import share_testimony


def admin_client(node):
    person = node.make_person("rim", "admin")
    return signed_in_client(node.app, person.id)


def finished(node, peer_id, seconds=30):
    with node.context():
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = sync_now.job(peer_id, node.app)
            if found is not None and found.state == sync_now.DONE:
                return found
            time.sleep(0.2)
    raise AssertionError("the round did not end")


def test_an_administrator_syncs_a_partner_from_its_page(two_nodes, people):
    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    record = share_testimony(tunis, salma, huda)
    client = admin_client(sfax)
    with sfax.context():
        peer_id = peers.find(tunis.node_id).id
    page = client.get("/federation/peers").get_data(as_text=True)
    assert "Sync now" in page
    answer = client.submit(f"/federation/peers/{peer_id}/sync", {}, page="/federation/peers")
    assert answer.status_code == 302
    done = finished(sfax, peer_id)
    assert done.result == "ok" and done.taken >= 1
    with sfax.context():
        assert (tunis.node_id, record) in inbox.held_payloads(tunis.node_id)
    page = client.get("/federation/peers").get_data(as_text=True)
    assert "Synced at" in page and "entries taken" in page and 'http-equiv="refresh"' not in page
    assert client.get(f"/federation/peers/{peer_id}/sync").json["result"] == "ok"


def test_a_failed_round_says_why_and_a_second_waits_for_the_first(two_nodes):
    tunis, sfax = two_nodes
    client = admin_client(sfax)
    with sfax.context():
        peer_id = peers.find(tunis.node_id).id
    tunis.stop()  # it cannot be reached
    client.submit(f"/federation/peers/{peer_id}/sync", {}, page="/federation/peers")
    done = finished(sfax, peer_id)
    assert done.result not in (None, "ok")
    assert "Sync failed at" in client.get("/federation/peers").get_data(as_text=True)
    with sfax.context():
        sync_now._jobs[(id(sfax.app), peer_id)] = sync_now.Job()  # one is running
        assert not sync_now.start(peers.find(tunis.node_id), None)
        del sync_now._jobs[(id(sfax.app), peer_id)]


def test_refused_while_locked_and_for_an_unknown_peer(two_nodes):
    tunis, sfax = two_nodes
    client = admin_client(sfax)
    with sfax.context():
        peer_id = peers.find(tunis.node_id).id
    assert client.submit("/federation/peers/999999/sync", {},
                         page="/federation/peers").status_code == 404
    with sfax.context():
        keystore.keystore().lock()
    answer = client.submit(f"/federation/peers/{peer_id}/sync", {}, page="/federation/peers")
    assert answer.status_code == 302
    with sfax.context():
        assert sync_now.job(peer_id, sfax.app) is None
    member = signed_in_client(sfax.app, sfax.make_person("amina", "member").id)
    assert member.post(f"/federation/peers/{peer_id}/sync").status_code in (400, 403)
