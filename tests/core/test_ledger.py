"""The outbound ledger: what left, to whom, once per record version and recipient."""

import uuid

from sqlalchemy import select

from core.extensions import db
from core.models import LedgerEntry
from core.testing import all_databases


@all_databases
def test_a_version_that_leaves_twice_in_one_page_is_listed_once(make_app, db_backend):
    """Issue 19, Found 8: the hub was listed twice per record version at 8a0d646, when the
    version's hub entry was made again (the hub may now relay it) before the hub pulled."""
    from federation import outbox, protocol, signing  # the ledger's writer: federation

    app = make_app(PLUGINS=["federation"], unlocked=True)
    with app.app_context():
        signing.create_identity(app)
    hub, record_id = "z" * 32, str(uuid.UUID(int=5))
    payload = protocol.canonical({"title": "A summons"})
    with app.test_request_context():
        for relay in (False, True):
            outbox.append("hub", protocol.RECORD, {
                "record_type": "testimony.testimony", "record_id": record_id, "version": 1,
                "payload_hash": protocol.sha256_hex(payload), "relay": relay,
                "consent": {"audiences": ["hub", "peers"], "purposes": ["advocacy"],
                            "expires": None}}, payload=payload, policy_hash="0" * 64)
        db.session.commit()
        for _ in range(2):  # and a page fetched twice
            items, _head = outbox.page("hub", 0, 10, recipient=hub)
            assert len(items) == 2
            db.session.commit()
        listed = db.session.execute(select(LedgerEntry.recipient, LedgerEntry.version)).all()
    assert listed == [(hub, 1)]
