"""A hub on two app servers sharing one PostgreSQL database (docs/operations.md, "A hub on
several servers"): two real gunicorn processes on two ports, one instance folder, one
database. A signed request replayed to the other server is refused, sign-in failures on both
count together, two sync rounds started at once on both never pull a page twice nor count a
record twice, and one unlock serves both."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from core import clock
from core.testing import TEST_PASSPHRASE
from federation import protocol, signing, statistics, sync, transport
from federation.testing import ROOT, insecure_fill, pair
from tests.core.served import Client, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]

RECORDS = 3000
PAGE = 50


def case(number: int) -> dict:
    """A case's shape with one incident: one fact each on the hub."""
    return {"status": "open", "defender": {"age": "30-44", "activism": ["labour"]},
            "incidents": [{"occurred_on": f"2025-{number % 12 + 1:02d}", "place": "TN-11",
                           "violation": "threats", "perpetrator_type": "police"}]}


def gunicorn(folder, port: int, *options: str) -> subprocess.Popen:
    """One app server of the hub, as docs/operations.md starts it, once it accepts."""
    log = (folder / f"gunicorn-{port}.log").open("ab")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:core.gunicorn_conf", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         *options, "core.wsgi:app"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
        env=dict(os.environ, RABITA_INSTANCE_PATH=str(folder)))
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn ended at start"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return server
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


@pytest.fixture
def hub_on_two_servers(make_node, tmp_path):
    """A member node (SQLite, its pages logged) and a hub on PostgreSQL served by two
    gunicorns: the first on the hub's own address (``--reuse-port``: the port the test node
    holds), the second on another port; the hub's config holds no passphrase file."""
    log = tmp_path / "pages.log"
    member = make_node("tunis", wait=False, request_log=log)
    hub = make_node("hub", role="hub", database="postgresql", serve=False)
    config = hub.folder / "config.py"
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                              if not line.startswith("PASSPHRASE_FILE"))
                      + f"FEDERATION_PAGE_SIZE = {PAGE}\n")
    second = free_port()
    servers = [gunicorn(hub.folder, hub.port, "--reuse-port"), gunicorn(hub.folder, second)]
    try:
        member.wait()
        pair(member, hub)
        yield member, hub, (hub.port, second), log
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def signed_receipts(member, authority: str) -> tuple[dict, bytes]:
    """A request the member signs for the hub behind its proxy (``authority``): its header
    fields (with the Host it signed, which the proxy passes on) and its body."""
    body = protocol.dumps({"type": protocol.RECEIPTS_TYPE, "receipts": []})
    headers = transport.Headers([("Content-Type", "application/json")])
    with member.context():
        transport.sign(transport.Request("POST", f"http://{authority}/federation/receipts",
                                         headers), body, key_id=signing.identity().current,
                       sign_bytes=signing.sign, now=clock.now())
    return {"Host": authority, **headers.as_dict()}, body


def send(port: int, headers: dict, body: bytes) -> tuple[int, str | None]:
    """Send to one server as the proxy would (the signed Host kept): status, reason code."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/federation/receipts", body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read()
    finally:
        connection.close()
    return answer.status, json.loads(text).get("error") if text else None


def test_a_request_replayed_to_the_other_server_is_refused(hub_on_two_servers):
    member, _hub, (first, second), _log = hub_on_two_servers
    authority = f"127.0.0.1:{first}"  # the proxy's: both servers see the Host it signed
    headers, body = signed_receipts(member, authority)
    assert send(first, headers, body) == (200, None)
    assert send(second, headers, body) == (401, "replayed")
    assert send(first, headers, body) == (401, "replayed")
    assert send(second, *signed_receipts(member, authority)) == (200, None)


def test_sign_in_failures_on_both_servers_count_together(hub_on_two_servers):
    _member, hub, (first, second), _log = hub_on_two_servers
    amina = hub.make_person("amina")

    def guess(port: int) -> int:
        return Client(port, None, "test").submit(
            "/login", {"username": "amina", "password": "guess!"})[0].status

    assert [guess(port) for port in (first, second, first, second, first)] == [302] * 5
    assert guess(second) == 429
    assert guess(first) == 429
    held = Client(second, None, "test").submit(
        "/login", {"username": "amina", "password": amina.password})[0]
    assert held.status == 429


def test_one_unlock_serves_both_servers_of_one_machine(hub_on_two_servers, tmp_path):
    member, hub, (first, second), _log = hub_on_two_servers
    authority = f"127.0.0.1:{first}"
    locked = hub.cli("keys", "lock")  # the RAM-only share goes, for every process here
    assert locked.returncode == 0, locked.stderr
    for port in (first, second):
        assert send(port, *signed_receipts(member, authority)) == (503, "node-locked")
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    refused = hub.cli("keys", "unlock", "--passphrase-file", str(wrong))
    assert refused.returncode != 0 and "passphrase" in refused.stderr
    assert send(second, *signed_receipts(member, authority)) == (503, "node-locked")
    right = tmp_path / "right"
    right.write_text(TEST_PASSPHRASE + "\n")
    unlocked = hub.cli("keys", "unlock", "--passphrase-file", str(right))
    assert unlocked.returncode == 0, unlocked.stderr
    for port in (first, second):
        assert send(port, *signed_receipts(member, authority)) == (200, None)


def test_two_rounds_at_once_pull_each_page_once_and_count_each_record_once(
        hub_on_two_servers):
    member, hub, _ports, log = hub_on_two_servers
    with member.context():
        ids = insecure_fill(RECORDS, feed=protocol.HUB, purposes=("statistics",),
                            payload_of=case)
    log.write_text("")  # the pages asked for from now on
    rounds = [subprocess.Popen(
        [sys.executable, "-m", "core.cli", "--instance", str(hub.folder), "sync", "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, RABITA_INSTANCE_PATH=str(hub.folder))) for _ in range(2)]
    said = [round_.communicate(timeout=600) for round_ in rounds]
    assert [round_.returncode for round_ in rounds] == [0, 0], said
    outputs = sorted(out for out, _err in said)
    assert sum(sync.HELD_ELSEWHERE in out for out in outputs) == 1, outputs
    assert any(f"{RECORDS} entries in {RECORDS // PAGE} pages" in out for out in outputs)
    pages = Counter(json.loads(line) for line in log.read_text().splitlines())
    hub_pages = {query: n for query, n in pages.items() if "feed=hub" in query}
    assert len(hub_pages) >= RECORDS // PAGE
    assert set(hub_pages.values()) == {1}, "a page pulled twice"
    with hub.context():
        counted = Counter(fact[1] for fact in statistics.facts())
    assert set(counted) == set(ids)
    assert set(counted.values()) == {1}, "a record counted twice"
