"""How a node started as documented answers while clients hold partial bodies open.

Starts gunicorn as docs/operations.md says (``-c python:core.gunicorn_conf``, two workers),
opens N connections that each declare a 100-byte body and send 95, then times requests for
the node document with a client that waits at most 1 s. The same with gunicorn's own
``gthread`` worker, for comparison. Prints, per worker and N: answered within 1 s, and the
median and slowest answer; and the rate of plain requests with no slow client.

    python -m bench.slow_bodies [--probes 40]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

from bench.cases import gunicorn
from core import keystore
from core.app import create_app
from core.extensions import db
from core.testing import TEST_PASSPHRASE
from federation import signing

DOCUMENTED = ("-c", "python:core.gunicorn_conf")
WORKERS = {"WholeRequestWorker (now)": (), "gthread (before)": ("--worker-class", "gthread")}
SLOW_CLIENTS = (0, 2, 10, 50)


def make_instance(folder: Path) -> dict:
    """A node's instance folder (federation key, unlocked by its passphrase file)."""
    (folder / "shm").mkdir(parents=True, exist_ok=True)
    (folder / "passphrase.txt").write_text(TEST_PASSPHRASE + "\n")
    (folder / "config.py").write_text(
        f"SECRET_KEY = {os.urandom(24).hex()!r}\nPLUGINS = ['federation']\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{folder / 'rabita.db'}'\n"
        f"KEY_SHARE_DIR = {str(folder / 'shm')!r}\n"
        f"PASSPHRASE_FILE = {str(folder / 'passphrase.txt')!r}\n")
    keystore.create_keyring(folder / keystore.KEYRING_FILE, TEST_PASSPHRASE)
    app = create_app({"INSTANCE_PATH": str(folder)})
    with app.app_context():
        db.create_all()
        signing.create_identity(app)
    return dict(os.environ)


def probe(port: int) -> float | None:
    """Seconds to get the node document, or None if not within 1 s."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", "/.well-known/rabita")
        answer = connection.getresponse()
        answer.read()
        return time.perf_counter() - start if answer.status == 200 else None
    except OSError:
        return None
    finally:
        connection.close()


def partial_body(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"POST /federation/receipts HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: 100\r\n\r\n" + b"x" * 95)
    return client


def measure(port: int, slow: int, probes: int) -> str:
    held = [partial_body(port) for _ in range(slow)]
    time.sleep(0.5)
    try:
        times = [probe(port) for _ in range(probes)]
    finally:
        for client in held:
            client.close()
    answered = sorted(t for t in times if t is not None)
    if not answered:
        return f"{slow:>3} slow: 0/{probes} answered within 1 s"
    return (f"{slow:>3} slow: {len(answered)}/{probes} answered within 1 s, median "
            f"{statistics.median(answered) * 1000:.1f} ms, slowest {answered[-1] * 1000:.1f} ms")


def rate(port: int, seconds: float = 3.0) -> float:
    done, end = 0, time.perf_counter() + seconds
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while time.perf_counter() < end:
        connection.request("GET", "/.well-known/rabita")
        connection.getresponse().read()
        done += 1
    connection.close()
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=40)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        environment = make_instance(Path(folder) / "node")
        for name, extra in WORKERS.items():
            server, port = gunicorn(Path(folder) / "node", environment, *DOCUMENTED, *extra)
            try:
                while probe(port) is None:
                    time.sleep(0.2)
                print(f"{name}: {rate(port):.0f} documents/s on one kept-alive connection")
                for slow in SLOW_CLIENTS:
                    print(f"  {measure(port, slow, options.probes)}")
                    time.sleep(1.5)  # the held threads of gthread come back when closed
            finally:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
