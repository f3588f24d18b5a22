"""Signature checks made together: a long page's on other cores (a process pool of 0, 1 or 2
processes, whatever this machine has), settled before anything is announced, with the same
outcome as checking one by one."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future, InvalidStateError
from pathlib import Path

import pytest
from nacl.signing import SigningKey
from sqlalchemy import func, select

from core.extensions import db
from federation import inbox, signatures, signing
from federation.models import HeldRecord, ReceivedEntry
from federation.reasons import Refused
from federation.testing import ROOT
from tests.federation.conftest import Origin

LONG = signatures.BATCH * 3 + 17  # several batches handed over, and a tail kept


@pytest.fixture(params=[0, 1, 2], ids=["checked-here", "one-process", "two-processes"])
def processes(request):
    """How many checking processes the node has: none (a one-core machine), one, two."""
    return request.param


@pytest.fixture
def node(federation_app, processes):
    app = federation_app(FEDERATION_SIGNATURE_PROCESSES=processes)
    started(app)
    return app


def started(app):
    """Wait until the app's pool (if any) runs: a pool still starting is given nothing."""
    with app.app_context():
        pool = signatures.checking_pool()
        if pool is not None:
            pool.submit(int).result()


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


def verify(origin, items, head=None, keys=None):
    """Verify a page as a sync does: its signatures left unsettled."""
    return inbox.verify_feed(origin.node_id, "peers", items,
                             len(items) if head is None else head, keys or inbox.Keys(),
                             signing.identity().node_id, settle=False)


def receive(node, origin, items, head=None):
    """Verify, apply, commit; the refusal code, or None."""
    with node.app_context():
        try:
            page = verify(origin, items, head)
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


@pytest.mark.slow
def test_a_long_page_goes_to_the_pool_in_batches_and_is_applied(node, origin, processes):
    with node.app_context():
        page = verify(origin, long_page(origin))
        handed = len(page.signatures._handed)
        inbox.apply(page.items, received_from=origin.node_id, signatures=page.signatures)
        db.session.commit()
    assert rows(node) == (LONG, LONG)
    assert handed == (0 if processes == 0 else LONG // signatures.BATCH + 1)  # the tail too


@pytest.mark.parametrize("processes", [1], indirect=True)
def test_a_pool_still_starting_is_given_nothing(node, origin, monkeypatch):
    with node.app_context():
        starting = Future()  # its first call not answered yet
        monkeypatch.setitem(signatures._started, signatures.checking_pool(), starting)
        page = verify(origin, long_page(origin))
        assert page.signatures._handed == []  # all checked here, nothing waits for the pool
        inbox.apply(page.items, received_from=origin.node_id, signatures=page.signatures)
        db.session.commit()
    assert rows(node) == (LONG, LONG)


@pytest.mark.slow
@pytest.mark.parametrize("at", [0, signatures.BATCH + 5, LONG - 2])
def test_one_bad_signature_refuses_a_long_page_and_writes_nothing(node, origin, at):
    # at the start, in a batch handed over, and in the tail
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


def test_a_page_never_settled_does_not_answer_for_a_later_one(node, origin):
    items = long_page(origin)
    with node.app_context():
        verify(origin, with_bad_signature(items, 5))  # abandoned, its checks still going
    assert receive(node, origin, items) is None
    assert rows(node) == (LONG, LONG)


# -- a pool that breaks or stops answering ------------------------------------------------------


def a_checking_process(node) -> int:
    """The pid of one of the node's checking processes (it answers with its own)."""
    with node.app_context():
        return signatures.checking_pool().submit(os.getpid).result()


@pytest.fixture
def stdlib_breakage_race(monkeypatch):
    """CPython 3.11's ProcessPoolExecutor, failing the futures of a pool whose process died,
    raises InvalidStateError in its own manager thread for a future this process cancelled
    at that moment (taking a batch back to check it here): python/cpython gh-107219, fixed
    in 3.12 and not in 3.11. That thread is the standard library's, and the checks are not
    affected (a batch it leaves unanswered is checked here after ANSWER_TIMEOUT); any other
    exception in any thread still fails the test."""
    previous = threading.excepthook

    def hook(args):
        if isinstance(args.exc_value, InvalidStateError) and \
                type(args.thread).__name__ == "_ExecutorManagerThread":
            return
        previous(args)

    monkeypatch.setattr(threading, "excepthook", hook)


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2], indirect=True)
@pytest.mark.usefixtures("stdlib_breakage_race")
def test_a_killed_checking_process_changes_only_the_speed(node, origin):
    with node.app_context():
        broken = signatures.checking_pool()
    os.kill(a_checking_process(node), signal.SIGKILL)
    items = long_page(origin)
    assert receive(node, origin, with_bad_signature(items, 150)) == "entry-signature-invalid"
    assert receive(node, origin, items) is None
    assert rows(node) == (LONG, LONG)
    with node.app_context():
        assert signatures.checking_pool() is not broken  # a new pool for the next page


@pytest.mark.parametrize("processes", [1], indirect=True)
def test_a_pool_that_stops_answering_is_ended_and_its_batch_checked_here(node, monkeypatch):
    monkeypatch.setattr(signatures, "ANSWER_TIMEOUT", 0.5)  # a test need not wait 30 s
    pid = a_checking_process(node)
    with node.app_context():
        pool = signatures.checking_pool()
        stuck = pool.submit(os.kill, pid, signal.SIGSTOP)  # the process stops itself
        os.waitpid(pid, os.WUNTRACED)  # returns once it has: its task is taken, unanswered
        assert signatures._answer(pool, stuck, checks(3)) is True  # after the time-out
        assert signatures._answer(pool, stuck, checks(3, bad={1})) is False
        assert not Path(f"/proc/{pid}").exists()  # killed and reaped
        assert signatures.checking_pool() is not pool


# -- the checks themselves, and the pool's size and lifetime ------------------------------------


def checks(count, bad=()):
    key = SigningKey(b"k" * 32)
    made = []
    for n in range(count):
        data = f"entry {n}".encode()
        signature = key.sign(data).signature
        made.append((bytes(key.verify_key), b"tampered" if n in bad else data, signature))
    return made


def test_signatures_of_a_short_page_are_checked_here(monkeypatch):
    monkeypatch.setattr(signatures, "checking_pool",
                        lambda: pytest.fail("no pool for a short page"))
    together = signatures.Signatures()
    for check in checks(signatures.BATCH - 1):
        together.add(*check)
    together.settle()
    together.add(*checks(1, bad={0})[0])
    with pytest.raises(Refused):
        together.settle()


@pytest.mark.slow
def test_work_beside_the_checks_comes_back_in_order_from_the_pool_or_from_here(node,
                                                                              processes):
    values = list(range(signatures.BATCH * 2 + 3))  # two batches and a tail
    with node.app_context():
        worked = signatures.Worked(str, values)
        assert worked.handed == (processes > 0)
        assert worked.results() == [str(v) for v in values]
        short = signatures.Worked(str, values[:3])
        assert not short.handed and short.results() == ["0", "1", "2"]  # here
        assert signatures.Worked(str, []).results() == []


def test_a_bad_key_or_signature_is_simply_invalid():
    (key, data, signature), = checks(1)
    assert signatures.verify(key, data, signature)
    assert not signatures.verify(key[:31], data, signature)
    assert not signatures.verify(key, data, signature[:63])
    assert not signatures.all_hold([(key, data, signature), (key, b"other", signature)])


def test_a_checking_process_per_core_up_to_two_and_none_on_one_core():
    assert [signatures.processes_for(cores) for cores in (1, 2, 3, 8)] == [0, 2, 2, 2]


def test_a_node_that_sets_nothing_gets_what_its_machine_suits(federation_app):
    with federation_app().app_context():
        assert signatures.processes() == signatures.processes_for(len(os.sched_getaffinity(0)))


def probe(tmp_path, then: str) -> subprocess.Popen:
    """A Python process with an app (not served), that runs ``then`` in its app context."""
    script = (
        "import multiprocessing, os, sys\n"
        "from core.app import create_app\n"
        "from federation import signatures\n"
        "app = create_app({'TESTING': True, 'INSTANCE_PATH': sys.argv[1], 'SECRET_KEY': 'x' * 32,"
        " 'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'PLUGINS': ['federation'],"
        " 'FEDERATION_SIGNATURE_PROCESSES': 1})\n"
        "with app.app_context():\n"
        f"    {then}\n")
    return subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_importing_the_module_or_making_the_app_starts_no_process(tmp_path):
    # A gunicorn master loads the app before it forks its workers: it must hold no pool.
    made = probe(tmp_path, "print(len(multiprocessing.active_children()), "
                           "len(signatures._pools))")
    out, err = made.communicate(timeout=120)
    assert made.returncode == 0, err
    assert out.split() == ["0", "0"]


@pytest.mark.slow
def test_checking_processes_end_with_a_killed_process_that_made_them(tmp_path):
    made = probe(tmp_path, "print(signatures.checking_pool().submit(os.getpid).result(), "
                           "flush=True); sys.stdin.read()")  # waits to be killed
    assert int(made.stdout.readline()) != made.pid  # its checking process answered
    made.kill()
    # Every process that holds the output (the checking process inherited it) has ended
    # once it is closed; a checking process left waiting would keep it open.
    made.communicate(timeout=60)
    assert made.returncode == -signal.SIGKILL


def where_worked(value):
    """What the pool runs in the test below: the value, and which process worked it out."""
    return value, os.getpid()


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1], indirect=True)
def test_what_the_pool_has_not_taken_is_taken_back_last_first_and_worked_here(node):
    values = list(range(signatures.BATCH * 6))
    with node.app_context():
        pool = signatures.checking_pool()
        busy = pool.submit(time.sleep, 1.0)  # its one process busy: the batches wait
        found = signatures.Worked(where_worked, values).results()
        busy.result()
    assert [value for value, _pid in found] == values  # in order, whoever worked them out
    here = [found[n * signatures.BATCH][1] == os.getpid() for n in range(6)]
    assert here[2:] == [True] * 4  # the pool holds at most two beside the one it runs
    assert here == sorted(here)  # the pool's first, then what was taken back


@pytest.mark.parametrize("processes", [1], indirect=True)
def test_a_bad_signature_in_a_batch_taken_back_refuses_the_page(node):
    with node.app_context():
        pool = signatures.checking_pool()
        busy = pool.submit(time.sleep, 1.0)
        together = signatures.Signatures()
        for check in checks(signatures.BATCH * 5, bad={signatures.BATCH * 5 - 1}):
            together.add(*check)
        with pytest.raises(Refused):
            together.settle()
        busy.result()
