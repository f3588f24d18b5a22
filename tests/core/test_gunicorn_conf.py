"""gunicorn as a node runs it: no client address, nor any hash of one, at rest or in a log,
and no ``Server`` header."""

from __future__ import annotations

import hashlib
import ipaddress
import random
import re
import socket
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from core.config import Defaults
from core.gunicorn_conf import ADDRESS_PLACEHOLDER, without_addresses
from core.testing import all_databases
from tests.core.served import GunicornNode

ADDRESS = "203.0.113.77"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) rabita-test"


def written_addresses(seed: int, count: int = 200) -> list[str]:
    """Addresses as logs write them: IPv4, IPv6 compressed and exploded, mapped, scoped."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        v4 = ipaddress.IPv4Address(rng.getrandbits(32))
        v6 = ipaddress.IPv6Address(rng.getrandbits(128))
        short = ipaddress.IPv6Address(rng.getrandbits(16) << 112 | rng.getrandbits(8))
        found += [str(v4), str(v6), v6.exploded, str(short), f"::ffff:{v4}", f"fe80::{rng.randrange(1, 999)}%eth0"]
    return found


@pytest.mark.parametrize("seed", range(3))
def test_every_written_address_is_replaced(seed):
    for address in written_addresses(seed):
        for line in (f"Invalid request from ip={address}: Invalid HTTP method",
                     f"Listening at: http://[{address}]:8000 (12)", f"peer {address}:443, ok",
                     f"X-Forwarded-For: {address}, 10.0.0.1"):
            cleaned = without_addresses(line)
            assert address not in cleaned and ADDRESS_PLACEHOLDER in cleaned, (line, cleaned)


def test_times_versions_and_numbers_are_kept():
    line = "[2026-12-06 05:52:16 +0000] [22274] gunicorn 27.0.1 at 05:52:16, 3.5 ms, 1.2.3"
    assert without_addresses(line) == line


def digests(text: str) -> list[bytes]:
    """Every common hash of ``text``, as hex (both cases) and raw bytes."""
    found = []
    for name in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "blake2b"):
        digest = hashlib.new(name, text.encode())
        found += [digest.hexdigest().encode(), digest.hexdigest().upper().encode(),
                  digest.digest()]
    return found


def needles(address: str, browser: str) -> dict[str, bytes]:
    """The address, and what could be derived from it: its hashes, alone and joined with
    the browser's name as Flask-Login's session identifier does."""
    flask_login_base = f"{address.encode()}|{browser.encode()}"
    found = {"address": address.encode()}
    for label, text in (("address", address), ("flask-login _id", flask_login_base),
                        ("address|browser", f"{address}|{browser}")):
        for number, digest in enumerate(digests(text)):
            found[f"hash {number} of {label}"] = digest
    return found


def stored_bytes(node: GunicornNode, database_url: str) -> dict[str, bytes]:
    """Every file of the instance folder (database, WAL, logs), and a dump of the
    PostgreSQL schema when the node runs on one."""
    files = [path for path in node.folder.rglob("*") if path.is_file()]
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        files += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    stored = {str(path): path.read_bytes() for path in files if path.exists()}
    if database_url.startswith("postgresql"):
        schema = re.search(r"search_path%3D(\w+)", database_url).group(1)
        server = unquote(database_url.split("?", 1)[0]).replace("+psycopg", "")
        dump = subprocess.run(["pg_dump", "--schema", schema, server], capture_output=True,
                              check=True)
        stored["pg_dump"] = dump.stdout
    return stored


@pytest.mark.slow
@all_databases
def test_signing_in_through_a_proxy_leaves_no_trace_of_her_address(
        tmp_path, database_url, insecure_fast_kdf):
    # Her hash is a cheap one (insecure_fast_kdf): checks need no budget here, and a wrong
    # then a right password at once would find the one check a worker may start spent.
    node = GunicornNode(tmp_path / "node", database_url, PROXY_COUNT=1, SIGNIN_HASH_BURST=1000)
    salma = node.make_person("salma", "documenter")
    with node:
        browser = node.client(ADDRESS, BROWSER)
        assert browser.submit("/login", {"username": "salma", "password": "not hers!"}
                              )[0].status == 302
        assert browser.submit("/login", {"username": "Salma ", "password": salma.password}
                              )[0].getheader("Location") == "/login/code"
        signed_in, _page = browser.submit("/login/code", {"code": salma.code()})
        assert signed_in.status == 302 and signed_in.getheader("Location") == "/"
        home, page = browser.request("GET", "/")
        assert home.status == 200 and "salma" in page
        for response in (signed_in, home):
            assert response.getheader("Server") is None
        with socket.create_connection(("127.0.0.1", node.port)) as raw:  # a malformed request
            raw.sendall(b"GET\x01 / HTTP/1.1\r\nX-Forwarded-For: " + ADDRESS.encode() + b"\r\n\r\n")
            answer = raw.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400") and b"Server:" not in answer
        while_serving = stored_bytes(node, database_url)  # the WAL as the workers left it
    stored = {f"{name} (while serving)": content for name, content in while_serving.items()}
    stored |= stored_bytes(node, database_url)
    logs = b"".join(stored[str(path)] for path in node.logs if str(path) in stored)
    assert b"Invalid request from ip=" + ADDRESS_PLACEHOLDER.encode() in logs  # it was logged
    # threaded workers (gthread, reading each request whole first) log the same way
    assert b"Using worker: core.gunicorn_worker.WholeRequestWorker" in logs
    assert any(name.endswith(("rabita.db-wal (while serving)", "pg_dump")) for name in stored)
    found = [(name, label) for name, content in stored.items()
             for label, needle in needles(ADDRESS, BROWSER).items() if needle in content]
    found += [(str(path), "127.0.0.1") for path in node.logs
              if b"127.0.0.1" in stored.get(str(path), b"")]
    assert found == []


def test_the_project_gunicorn_settings_are_what_the_docs_say():
    from core import gunicorn_conf

    assert gunicorn_conf.accesslog is None
    assert gunicorn_conf.logger_class == "core.gunicorn_conf.AddresslessLogger"
    text = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    assert "-c python:core.gunicorn_conf" in text
    # Threads, so that pages are served while a password is checked: more of them than
    # checks a worker may run at once, and the docs say so.
    assert gunicorn_conf.worker_class == "core.gunicorn_worker.WholeRequestWorker"
    assert "`gthread`" in text and "`core.gunicorn_worker.WholeRequestWorker`" in text
    assert gunicorn_conf.threads > Defaults.SIGNIN_HASH_BURST
    assert f"with {gunicorn_conf.threads} threads" in text
