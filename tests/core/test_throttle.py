"""The sign-in throttle under concurrency: the limits hold on both databases, in threads of
one server and across two gunicorn workers, and every refusal says when to try again."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from core import throttle
from core.testing import all_databases
from tests.core.served import Client, GunicornNode

CONCURRENT = 20


def at_once(count: int, attempt) -> list:
    """Run ``attempt(number)`` in ``count`` threads released together."""
    gate = threading.Barrier(count)

    def run(number):
        gate.wait()
        return attempt(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@all_databases
def test_concurrent_attempts_on_one_account_let_five_through(app):
    with app.app_context():
        key = throttle.account_key("amina")

    def attempt(_number):
        with app.app_context():
            return throttle.count_attempt(key).refusal is None

    through = sum(at_once(CONCURRENT, attempt))
    assert through <= 5
    # Whatever got through at once, one at a time the minute's total comes to five exactly.
    while attempt(0):
        through += 1
    assert through == 5


@all_databases
def test_a_refusal_waits_for_the_oldest_failure_in_the_way(app, fake_clock):
    with app.test_request_context():
        key = throttle.account_key("amina")
        for _ in range(5):
            assert throttle.count_attempt(key).refusal is None
            fake_clock.advance(seconds=10)
        refusal = throttle.count_attempt(key).refusal  # 50 s after the first failure
        assert refusal.limit == throttle.ACCOUNT
        assert refusal.seconds == 10 and refusal.message().endswith("Try again in 10 seconds.")


@all_databases
def test_an_hour_of_failures_holds_for_the_hour(app, fake_clock):
    with app.test_request_context():
        key = throttle.account_key("amina")
        for _ in range(20):
            for _ in range(5):
                assert throttle.count_attempt(key).refusal is None
            fake_clock.advance(seconds=61)
        refusal = throttle.count_attempt(key).refusal
        # The first five leave the hour 3,600 s after they came, 20 × 61 s ago.
        assert refusal.seconds == 3600 - 20 * 61
        assert refusal.message().endswith("Try again in 40 minutes.")
        fake_clock.advance(minutes=60)
        assert throttle.count_attempt(key).refusal is None


@all_databases
def test_a_success_is_no_failure(app):
    from core.extensions import db

    with app.test_request_context():
        key = throttle.account_key("amina")
        for _ in range(10):
            counted = throttle.count_attempt(key)
            assert counted.refusal is None
            throttle.forget(counted)
            db.session.commit()


def test_the_client_key_changes_hourly_and_the_hour_is_still_counted(fake_clock, monkeypatch):
    monkeypatch.setattr(throttle, "CLIENT_LIMITS", ((timedelta(minutes=1), 10),
                                                   (timedelta(hours=1), 8)))
    failures, address = throttle.ClientFailures(), "198.51.100.7"
    for _ in range(5):
        assert failures.take(address) is None
    first_key = failures._generations[-1][0]
    fake_clock.advance(minutes=59)
    for _ in range(3):
        assert failures.take(address) is None
    assert failures.take(address).limit == throttle.CLIENT  # eight in the hour
    fake_clock.advance(minutes=2)  # the first five have left the hour; a new key is made
    for _ in range(5):
        assert failures.take(address) is None
    assert failures._generations[-1][0] != first_key
    assert failures.take(address) is not None  # the three of the old key still count


def test_the_threads_of_one_worker_share_its_budgets(app, fake_clock):
    """gunicorn's gthread worker serves several requests of one process at once: threads
    released together make one set of budgets, and take one client's ten shares and the
    hashing burst, no more."""
    def made(_number):
        with app.app_context():
            return throttle.budgets()

    found = at_once(CONCURRENT, made)
    assert all(budgets is found[0] for budgets in found)
    budgets = found[0]
    refusals = at_once(CONCURRENT, lambda _n: budgets.clients.take("198.51.100.7"))
    assert refusals.count(None) == throttle.CLIENT_LIMITS[0][1]
    assert {refusal.limit for refusal in refusals if refusal} == {throttle.CLIENT}
    budgets.hashing = throttle.HashingBudget(rate=0.2, burst=3)  # the clock stands: no refill
    tokens = at_once(CONCURRENT, lambda _n: budgets.hashing.take())
    assert tokens.count(None) == 3
    assert {refusal.limit for refusal in tokens if refusal} == {throttle.BUSY}


def test_a_success_gives_its_client_share_back(fake_clock):
    failures = throttle.ClientFailures()
    for _ in range(30):
        assert failures.take("192.0.2.1") is None
        failures.give_back("192.0.2.1")


@pytest.mark.slow
@all_databases
def test_twenty_at_once_over_twenty_minutes_hold_both_limits(make_app, fake_clock, live_server):
    """Real HTTP, a threaded server: in each minute 20 guesses at once from 20 addresses;
    at most 5 are checked each minute and 100 in the hour."""
    from core.testing import add_person

    app = make_app(PROXY_COUNT=1, SIGNIN_HASH_BURST=1000)
    with app.app_context():
        add_person("amina")
    checked = []
    with live_server(app) as server:
        port = server.server.server_port
        for minute in range(21):
            answers = at_once(CONCURRENT, lambda n, m=minute: Client(port, f"198.51.{m}.{n}", "t")
                              .submit("/login", {"username": "amina", "password": "a guess!"})[0])
            statuses = [answer.status for answer in answers]
            assert set(statuses) <= {302, 429}
            assert statuses.count(302) <= 5
            assert all(a.getheader("Retry-After", "").isdigit() for a in answers if a.status == 429)
            checked.append(statuses.count(302) + top_up(port, minute))
            fake_clock.advance(seconds=61)
    assert checked == [5] * 20 + [0]  # the twenty-first minute: the hour holds a hundred


def top_up(port: int, minute: int) -> int:
    """Guesses one at a time until refused: how many more the minute let through."""
    count = 0
    while Client(port, f"203.0.{minute}.1", "t").submit(
            "/login", {"username": "amina", "password": "a guess!"})[0].status == 302:
        count += 1
    return count


@pytest.fixture
def gunicorn_node(tmp_path, database_url, insecure_fast_kdf):
    def factory(**config):
        return GunicornNode(tmp_path / "node", database_url, PROXY_COUNT=1,
                            SIGNIN_HASH_BURST=1000, **config)

    return factory


@pytest.mark.slow
@all_databases
def test_two_workers_let_five_of_twenty_concurrent_guesses_through(gunicorn_node):
    node = gunicorn_node()
    amina = node.make_person("amina")
    with node:
        answers = at_once(CONCURRENT, lambda n: node.client(f"198.51.100.{n}").submit(
            "/login", {"username": "AMINA" if n % 2 else "amina\u3000", "password": "guess!"})[0])
        checked = [answer.status for answer in answers].count(302)
        assert checked <= 5
        while node.client("192.0.2.1").submit(
                "/login", {"username": "amina", "password": "guess!"})[0].status == 302:
            checked += 1
        assert checked == 5
        held, page = node.client("192.0.2.2").submit(
            "/login", {"username": "amina", "password": amina.password})
        assert held.status == 429 and "Try again in" in page
        assert 0 < int(held.getheader("Retry-After")) <= 60


@pytest.mark.slow
@all_databases
def test_two_workers_slow_one_client_spraying_a_hundred_names(gunicorn_node):
    node = gunicorn_node()
    with node:
        sprayer = node.client("198.51.100.99")
        answers = [sprayer.submit("/login", {"username": f"name{n}", "password": "guess!"})
                   for n in range(100)]
    statuses = [response.status for response, _page in answers]
    # Each worker lets the client fail 10 times a minute: 10 to 20 checked in all.
    assert 10 <= statuses.count(302) <= 2 * throttle.CLIENT_LIMITS[0][1]
    assert statuses.count(429) == 100 - statuses.count(302)
    for response, page in answers:
        if response.status == 429:
            assert "Try again in" in page and response.getheader("Retry-After").isdigit()
