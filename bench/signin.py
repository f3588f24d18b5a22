"""The sign-in page under a flood of wrong passwords, served by gunicorn (2 workers).

    python -m bench.signin [--samples 200] [--rate 10] [--database sqlite|postgresql]

A fresh node (real argon2id parameters) behind a pretend proxy (PROXY_COUNT = 1), served by
gunicorn with the project's settings (``-c python:core.gunicorn_conf``) on 127.0.0.1. The
sign-in page is asked for ``--samples`` times, one at a time, alone, and as many times while
4 clients, each with its own address, send wrong passwords for her name and for made-up
ones, each at most ``--rate`` attempts a second (a bounded flood); the two are measured in
turn, three times, so that the machine's own ups and downs fall on both. Prints p50 and p95 in ms for
both, their ratio (target: at most 2× the quiet figure), and how many of the flood's
attempts were checked (an argon2id hash each) and how many the throttle refused.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.cases import _reset_schema as reset_schema

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "benchmark password 2026"  # noqa: S105 - a throw-away local benchmark node
FLOOD_CLIENTS = 4
WARM_UP = 20
ROUNDS = 3  # quiet and flooded measured in turn, three times
SETTLE = 5  # seconds of flood before measuring


def prepare(folder: Path, database: str) -> None:
    """An instance folder with its config and one member, amina (real password hashing)."""
    url = f"sqlite:///{folder / 'rabita.db'}"
    if database == "postgresql":
        server = os.environ.get("RABITA_TEST_POSTGRES_URL",
                                "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        url = f"{server}?options=-csearch_path%3Dbench_signin"
        reset_schema(server, "bench_signin")
    (folder / "shm").mkdir()
    (folder / "config.py").write_text(
        f"SECRET_KEY = {secrets.token_urlsafe(48)!r}\nSQLALCHEMY_DATABASE_URI = {url!r}\n"
        f"KEY_SHARE_DIR = {str(folder / 'shm')!r}\nPROXY_COUNT = 1\nPLUGINS = []\n")
    from core import create_app, users
    from core.extensions import db

    app = create_app({"INSTANCE_PATH": str(folder)})
    with app.test_request_context():
        db.create_all()
        users.create("amina", PASSWORD, "member")
        db.session.commit()
        db.engine.dispose()


def serve(folder: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:core.gunicorn_conf",
         "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "core.wsgi:app"],
        cwd=ROOT, env=dict(os.environ, RABITA_INSTANCE_PATH=str(folder)))
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def request(port: int, method: str, path: str, headers: dict, form: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urlencode(form) if form is not None else None
    if body is not None:
        headers = headers | {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode(), response.getheader("Set-Cookie")
    finally:
        connection.close()


def page_times(port: int, samples: int) -> list[float]:
    """Milliseconds to get the sign-in page, ``samples`` times one after the other."""
    times = []
    for _number in range(samples):
        started = time.perf_counter()
        status, _page, _cookie = request(port, "GET", "/login", {"X-Forwarded-For": "192.0.2.1"})
        if status != 200:
            raise SystemExit(f"/login answered {status}")
        times.append((time.perf_counter() - started) * 1000)
    return times


def flooded_page_times(port: int, samples: int, rate: float, tally: dict) -> list[float]:
    """``page_times`` while ``FLOOD_CLIENTS`` clients send wrong passwords."""
    stop = threading.Event()
    flooders = [threading.Thread(target=flood, args=(
        port, f"198.51.100.{number + 1}", rate, stop, tally)) for number in range(FLOOD_CLIENTS)]
    for flooder in flooders:
        flooder.start()
    time.sleep(SETTLE)  # the flood under way, its first burst spent
    try:
        return page_times(port, samples)
    finally:
        stop.set()
        for flooder in flooders:
            flooder.join()


def flood(port: int, address: str, rate: float, stop: threading.Event, tally: dict) -> None:
    """One client sending wrong passwords, at most ``rate`` a second, until ``stop``."""
    headers = {"X-Forwarded-For": address}
    _status, page, cookie = request(port, "GET", "/login", headers)
    headers["Cookie"] = cookie.split(";", 1)[0]
    token = TOKEN.search(page).group(1)
    number = 0
    while not stop.is_set():
        started = time.perf_counter()
        name = "amina" if number % 2 else f"name{address}-{number}"
        status, _page, _cookie = request(port, "POST", "/login", headers, {
            "username": name, "password": f"wrong guess {number}", "csrf_token": token})
        tally[status] = tally.get(status, 0) + 1
        number += 1
        stop.wait(max(0.0, 1 / rate - (time.perf_counter() - started)))


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="attempts a second per client")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        prepare(folder, args.database)
        server, port = serve(folder)
        quiet, flooded, tally = [], [], {}
        try:
            page_times(port, WARM_UP)
            for _round in range(ROUNDS):  # alternated: the machine's own drift hits both
                quiet += page_times(port, args.samples // ROUNDS)
                flooded += flooded_page_times(port, args.samples // ROUNDS, args.rate, tally)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    (quiet50, quiet95), (flood50, flood95) = percentiles(quiet), percentiles(flooded)
    print(f"\nsign-in page, {args.database}, gunicorn with 2 workers on 127.0.0.1, "
          f"{args.samples} requests each")
    print(f"  {'':<44} {'p50 ms':>8} {'p95 ms':>8}")
    print(f"  {'alone':<44} {quiet50:>8.1f} {quiet95:>8.1f}")
    label = f"under {FLOOD_CLIENTS} clients × {args.rate:g} wrong passwords/s"
    print(f"  {label:<44} {flood50:>8.1f} {flood95:>8.1f}")
    print(f"  {'ratio (target ≤ 2)':<44} {flood50 / quiet50:>8.2f} {flood95 / quiet95:>8.2f}")
    sent = sum(tally.values())
    checked, refused = tally.get(302, 0), tally.get(429, 0)
    print(f"  flood: {sent} attempts, {checked} checked (argon2id), {refused} refused by the "
          f"throttle, {sent - checked - refused} other")


if __name__ == "__main__":
    main()
