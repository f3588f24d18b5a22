"""Signature checks made together: on another core (a checking process) for long pages,
settled before anything is announced, with the same outcome as checking one by one."""

import os
import uuid

import pytest
from nacl.signing import SigningKey
from sqlalchemy import func, select

from core.extensions import db
from federation import identity, inbox, signing, verifier
from federation.models import HeldRecord, ReceivedEntry
from federation.reasons import Refused
from tests.federation.conftest import Origin

LONG = identity.Signatures.BATCH * 3 + 17  # several batches handed over, and a tail kept

pytestmark = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2 and not os.environ.get("CI"),
    reason="one core: signatures are checked in this process alone (CI has two)")


@pytest.fixture
def node(federation_app):
    return federation_app()


@pytest.fixture
def origin(node):
    made = Origin(seed=7)
    made.pin(node)
    return made


def record_id(n):
    return str(uuid.UUID(int=n + 1))


def long_page(origin, count=LONG):
    return [origin.record("peers", record_id(n)) for n in range(count)]


def with_bad_signature(items, at):
    """The item at ``at`` carries the signature of its neighbour: valid bytes, wrong text."""
    items = [dict(item) for item in items]
    items[at]["sig"] = items[at + 1]["sig"]
    return items


def receive(node, origin, items, head=None):
    """Verify (signatures left unsettled, as a sync does), apply, commit; the refusal code,
    or None."""
    with node.app_context():
        try:
            page = inbox.verify_feed(origin.node_id, "peers", items,
                                     len(items) if head is None else head, inbox.Keys(),
                                     signing.identity().node_id, settle=False)
            inbox.apply(page.items, received_from=origin.node_id, signatures=page.signatures)
        except Refused as refused:
            db.session.rollback()
            return refused.code
        db.session.commit()
        return None


def rows(node):
    with node.app_context():
        return (db.session.scalar(select(func.count()).select_from(ReceivedEntry)),
                db.session.scalar(select(func.count()).select_from(HeldRecord)))


def test_a_long_page_is_checked_by_the_checking_process_and_applied(node, origin):
    assert receive(node, origin, long_page(origin)) is None
    assert rows(node) == (LONG, LONG)
    child = identity._children.child
    assert child.usable and child.numbered >= 3  # the batches went to the other process


@pytest.mark.parametrize("at", [0, identity.Signatures.BATCH + 5, LONG - 2])
def test_one_bad_signature_refuses_a_long_page_and_writes_nothing(node, origin, at):
    # at the start, in a batch handed over, and in the tail checked here
    assert receive(node, origin, with_bad_signature(long_page(origin), at)) == \
        "entry-signature-invalid"
    assert rows(node) == (0, 0)


def test_the_first_thing_wrong_names_the_refusal(node, origin):
    items = long_page(origin)
    gap_late = with_bad_signature(items[:LONG - 20] + items[LONG - 19:], 10)
    assert receive(node, origin, gap_late) == "entry-signature-invalid"
    bad_late = with_bad_signature(items[:10] + items[11:], LONG - 30)
    assert receive(node, origin, bad_late) == "gap"
    assert receive(node, origin, with_bad_signature(items, 20), head=3) == \
        "entry-signature-invalid"  # ahead of "the head is behind the entries"
    assert rows(node) == (0, 0)


def test_a_checking_process_that_dies_changes_only_the_speed(node, origin):
    items = long_page(origin)
    bad = with_bad_signature(items, 150)
    with node.app_context():
        keys = inbox.Keys()
        own = signing.identity().node_id
        refused_page = inbox.verify_feed(origin.node_id, "peers", bad, LONG, keys, own,
                                         settle=False)
        good_page = inbox.verify_feed(origin.node_id, "peers", items, LONG, keys, own,
                                      settle=False)
        child = identity._children.child
        child.process.kill()
        child.process.wait()
        with pytest.raises(Refused) as refused:
            refused_page.signatures.settle()  # checked here instead
        assert refused.value.code == "entry-signature-invalid"
        inbox.apply(good_page.items, received_from=origin.node_id,
                    signatures=good_page.signatures)
        db.session.commit()
    assert rows(node) == (LONG, LONG)
    with node.app_context():
        assert identity._child() is not child  # a new one starts when next needed


def test_a_checking_process_that_stops_answering_is_ended_and_replaced(node, origin,
                                                                        monkeypatch):
    import signal

    monkeypatch.setattr(verifier, "ANSWER_TIMEOUT", 0.5)  # a test need not wait 30 s
    items = long_page(origin)
    with node.app_context():
        page = inbox.verify_feed(origin.node_id, "peers", with_bad_signature(items, 60), LONG,
                                 inbox.Keys(), signing.identity().node_id, settle=False)
        child = identity._children.child
        child.process.send_signal(signal.SIGSTOP)  # alive, but answering nothing
        with pytest.raises(Refused) as refused:
            page.signatures.settle()  # waits ANSWER_TIMEOUT, then checks here
        assert refused.value.code == "entry-signature-invalid"
        assert child.process.wait(timeout=5) == -signal.SIGKILL
    assert receive(node, origin, items) is None  # a new child checks the next page
    assert identity._children.child is not child
    assert rows(node) == (LONG, LONG)


def test_an_answer_never_collected_is_not_taken_for_a_later_one(node, origin):
    items = long_page(origin)
    with node.app_context():
        keys, own = inbox.Keys(), signing.identity().node_id
        abandoned = inbox.verify_feed(origin.node_id, "peers", with_bad_signature(items, 5),
                                      LONG, keys, own, settle=False)
        assert abandoned.signatures._handed  # its (bad) answers wait in the pipe
    assert receive(node, origin, items) is None
    assert rows(node) == (LONG, LONG)


# -- the checking process itself ------------------------------------------------------------


def checks(count, bad=()):
    key = SigningKey(b"k" * 32)
    made = []
    for n in range(count):
        data = f"entry {n}".encode()
        signature = key.sign(data).signature
        made.append((bytes(key.verify_key), b"tampered" if n in bad else data, signature))
    return made


def test_the_child_answers_each_batch_by_its_number():
    child = verifier.Child()
    try:
        first = child.hand_over(checks(20))
        second = child.hand_over(checks(20, bad={7}))
        third = child.hand_over(checks(3))
        assert child.answer(second) is False  # the first answer is passed over
        assert child.answer(third) is True
        assert first < second < third
    finally:
        child.close()
    assert child.process.returncode == 0  # it ends when its input closes


def test_the_wire_format_round_trips_and_refuses_malformed_checks():
    import io

    batch = checks(4)
    number, decoded = verifier.decode(io.BytesIO(verifier.encode(9, batch)))
    assert number == 9 and decoded == batch
    with pytest.raises(ValueError):
        verifier.encode(1, [(b"short", b"data", b"s" * 64)])
    with pytest.raises(EOFError):
        verifier.decode(io.BytesIO(verifier.encode(1, batch)[:-3]))


def test_the_child_loop_answers_until_its_input_ends():
    import io

    out = io.BytesIO()
    stream = io.BytesIO(verifier.encode(1, checks(2)) + verifier.encode(2, checks(2, bad={1})))
    verifier.serve(stream, out, verifier._all_hold)
    assert out.getvalue() == verifier._ANSWER.pack(1, True) + verifier._ANSWER.pack(2, False)


def test_signatures_of_a_short_page_are_checked_here(monkeypatch):
    monkeypatch.setattr(identity, "_child", lambda: pytest.fail("no child for a short page"))
    together = identity.Signatures()
    for check in checks(identity.Signatures.BATCH - 1):
        together.add(*check)
    together.settle()
    together.add(*checks(1, bad={0})[0])
    with pytest.raises(Refused):
        together.settle()
