"""The node's gunicorn worker, started as docs/operations.md says: a request is read whole
before a thread takes it, so slow or partial bodies hold no thread (issue 19, Found 1)."""

import http.client
import json
import os
import socket
import time

import pytest

from bench.cases import gunicorn
from core.gunicorn_worker import HEADER_SECONDS

DOCUMENTED = ("-c", "python:core.gunicorn_conf")  # 2 workers (the starter's) of 4 threads
SLOW_CLIENTS = 10  # more than the 8 threads of the two workers


@pytest.fixture
def served(make_node):
    """A node served by gunicorn as documented, and its port."""
    node = make_node("tunis", serve=False)
    server, port = gunicorn(node.folder, dict(os.environ), *DOCUMENTED)
    try:
        _wait_for_answers(port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for_answers(port):
    for _ in range(100):
        try:
            if probe(port, timeout=5)[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the node does not answer")


def probe(port, path="/.well-known/rabita", timeout=1.0):
    """GET ``path`` with a client that waits ``timeout`` seconds at most: (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def partial_body(port, declared=100, sent=95, path="/federation/receipts"):
    """A client that declares ``declared`` bytes of body, sends ``sent`` and holds on."""
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
                   .encode() + b"x" * sent)
    return client


def raw(port, request: bytes, timeout=5.0):
    """Send ``request`` as it is; return the status and JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_partial_bodies_on_many_connections_leave_the_node_answering(served):
    """At 8a0d646 (sync workers) two such clients held both workers until gunicorn's 30 s
    time-out; with gthread's 2 x 4 threads, nine did. Each probe here waits 1 s at most."""
    port = served
    slow = [partial_body(port) for _ in range(SLOW_CLIENTS)]
    try:
        time.sleep(0.5)  # every slow request has reached the server
        for _ in range(5):
            assert probe(port, timeout=1.0)[0] == 200
        # and a page that reads the database: the sign-in form
        assert probe(port, "/login", timeout=1.0)[0] in (200, 302)
    finally:
        for client in slow:
            client.close()


def test_a_partial_body_is_answered_408_at_its_deadline_and_closed(served):
    port = served
    client = partial_body(port)
    client.settimeout(HEADER_SECONDS + 10)
    answer = b""
    while chunk := client.recv(65536):
        answer += chunk
    client.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert json.loads(body) == {"error": "too-slow",
                                "message": "The message did not arrive in time."}


def test_header_fields_sent_slowly_hold_no_thread_either(served):
    port = served
    slow = []
    for _ in range(SLOW_CLIENTS):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /.well-known/rabita HTTP/1.1\r\nHost: x\r\nX-Wait: ")
        slow.append(client)
    try:
        time.sleep(0.5)
        assert probe(port, timeout=1.0)[0] == 200
    finally:
        for client in slow:
            client.close()


def test_oversized_header_fields_and_bodies_get_the_json_refusal_before_any_read(served):
    """A 20 KB header field: 431 in the protocol's shape (an HTML page at 8a0d646); a chunked
    body (411) and a declared body beyond MAX_CONTENT_LENGTH (413) are not read at all."""
    port = served
    status, body = raw(port, b"GET /federation/outbox HTTP/1.1\r\nHost: x\r\nX-Big: " +
                       b"a" * 20_000 + b"\r\n\r\n")
    assert (status, body["error"]) == (431, "headers-too-large")
    assert set(body) == {"error", "message"}
    status, body = raw(port, b"POST /federation/receipts HTTP/1.1\r\nHost: x\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    assert (status, body["error"]) == (411, "length-required")
    status, body = raw(port, b"POST /federation/receipts HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 999999999999\r\n\r\n")
    assert (status, body["error"]) == (413, "too-large")


def test_whole_requests_and_kept_alive_connections_are_served_as_before(served):
    port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        # A client that waits to be told to send its body (Expect: 100-continue, as curl)
        client.sendall(b"POST /federation/receipts HTTP/1.1\r\nHost: x\r\nConnection: close"
                       b"\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        client.sendall(b"{}")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    assert b'"error":"unsigned"' in answer.replace(b" ", b"")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        for _ in range(3):  # one connection, kept alive between requests
            connection.request("GET", "/.well-known/rabita")
            answer = connection.getresponse()
            assert answer.status == 200 and json.loads(answer.read())["signed"]
        connection.request("POST", "/federation/receipts", body=b"{}" * 40_000,
                           headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        assert answer.status == 401 and json.loads(answer.read())["error"] == "unsigned"
    finally:
        connection.close()
