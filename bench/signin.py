"""The sign-in page under a flood of wrong passwords, served by gunicorn as a node runs it.

    python -m bench.signin [--rounds 4] [--seconds 10] [--probes 10] [--rate 10]
                           [--database sqlite|postgresql] [--spread]

A fresh node (real argon2id parameters) behind a pretend proxy (PROXY_COUNT = 1), served by
gunicorn with the project's settings (``-c python:core.gunicorn_conf``: 2 workers of 4
threads) on 127.0.0.1. The sign-in page is asked for at random moments, ``--probes`` times a
second on average (each probe leaves on time, whether or not the one before has been
answered, and is timed from then), in stretches of ``--seconds``: alone, then while 4
clients, each with its own address, send wrong passwords for her name and for made-up ones,
each at most ``--rate`` attempts a second (a bounded flood, from a process of its own); in
turn, ``--rounds`` times, so that the machine's own ups and downs fall on both. The flooded
stretches include the flood's first seconds and, with the defaults, the minute after which
the clients' first failures leave their window and they may try again. Prints p50 and p95 in
ms for both, their ratio (target: at most 2× the quiet figure), and how many of the flood's
attempts were checked (an argon2id hash each) and how many the throttle refused. With
``--spread`` each attempt comes from another address, as from many machines: no per-client
limit holds them, and the hashing budget alone decides how many are checked.
"""

from __future__ import annotations

import argparse
import http.client
import math
import multiprocessing
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from bench.cases import _reset_schema as reset_schema
from bench.cases import gunicorn

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "benchmark password 2026"  # noqa: S105 - a throw-away local benchmark node
FLOOD_CLIENTS = 4
WARM_UP = 2  # seconds of pages before measuring


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
    from core import users
    from core.app import create_app
    from core.extensions import db

    app = create_app({"INSTANCE_PATH": str(folder)})
    with app.test_request_context():
        db.create_all()
        users.create("amina", PASSWORD, "member")
        db.session.commit()
        db.engine.dispose()


def serve(folder: Path) -> tuple[subprocess.Popen, int]:
    """The node as deployed: the project's gunicorn configuration (threads, no access log)."""
    return gunicorn(folder, dict(os.environ), "-c", "python:core.gunicorn_conf")


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


def page_time(port: int, due: float) -> float:
    """Milliseconds from ``due`` (when the probe was meant to leave) to the whole page."""
    status, _page, _cookie = request(port, "GET", "/login", {"X-Forwarded-For": "192.0.2.1"})
    if status != 200:
        raise SystemExit(f"/login answered {status}")
    return (time.monotonic() - due) * 1000


def probe(port: int, seconds: float, rate: float) -> list[float]:
    """Page times for probes sent at random moments (``rate`` a second on average, each
    on its own, not waiting for the one before) over ``seconds``: a person opening the page
    at any moment, so a slow stretch is sampled as often as a quick one."""
    randomness = random.Random()
    with ThreadPoolExecutor(max_workers=32) as pool:
        futures, due = [], time.monotonic()
        end = due + seconds
        while (due := due + randomness.expovariate(rate)) < end:
            time.sleep(max(0.0, due - time.monotonic()))
            futures.append(pool.submit(page_time, port, due))
        return [future.result() for future in futures]


def flooder(port: int, rate: float, spread: bool, running, finished, tallies) -> None:
    """A process of its own (the probes' timing shares no interpreter with it) whose
    ``FLOOD_CLIENTS`` threads send wrong passwords while ``running`` is set, until
    ``finished``; puts its tally of answers on ``tallies``."""
    tally: dict[int, int] = {}
    clients = [threading.Thread(target=flood, args=(
        port, number, rate, spread, running, finished, tally))
        for number in range(FLOOD_CLIENTS)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    tallies.put(tally)


def flood(port: int, client: int, rate: float, spread: bool, running, finished,
          tally: dict) -> None:
    """One client sending wrong passwords, at most ``rate`` a second, while ``running``;
    with ``spread``, each from another address (as a flood from many machines would)."""
    headers = {"X-Forwarded-For": f"198.51.100.{client + 1}"}
    _status, page, cookie = request(port, "GET", "/login", headers)
    headers["Cookie"] = cookie.split(";", 1)[0]
    token = TOKEN.search(page).group(1)
    number = 0
    while not finished.is_set():
        if not running.wait(0.1):
            continue
        started = time.monotonic()
        if spread:
            headers["X-Forwarded-For"] = f"10.{client}.{number // 250 % 250}.{number % 250 + 1}"
        name = "amina" if number % 2 else f"name{client}-{number}"
        status, _page, _cookie = request(port, "POST", "/login", headers, {
            "username": name, "password": f"wrong guess {number}", "csrf_token": token})
        tally[status] = tally.get(status, 0) + 1
        number += 1
        time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))


def measure(port: int, args) -> tuple[list[float], list[float], dict[int, int]]:
    """Quiet and flooded stretches in turn, ``args.rounds`` times each, probed alike."""
    running, finished, tallies = (multiprocessing.Event(), multiprocessing.Event(),
                                  multiprocessing.Queue())
    flooding = multiprocessing.Process(target=flooder, args=(
        port, args.rate, args.spread, running, finished, tallies))
    flooding.start()
    quiet, flooded = [], []
    try:
        probe(port, WARM_UP, args.probes)
        for _round in range(args.rounds):
            quiet += probe(port, args.seconds, args.probes)
            running.set()
            flooded += probe(port, args.seconds, args.probes)
            running.clear()
            time.sleep(1)  # the flood's last attempts answered before the quiet stretch
    finally:
        running.clear()
        finished.set()
        tally = tallies.get(timeout=60)
        flooding.join()
    return quiet, flooded, tally


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[math.ceil(len(ordered) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4, help="quiet and flooded stretches")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each stretch")
    parser.add_argument("--probes", type=float, default=10.0, help="page requests a second")
    parser.add_argument("--rate", type=float, default=10.0, help="attempts a second per client")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--spread", action="store_true",
                        help="each attempt from another address (no per-client limit holds)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        prepare(folder, args.database)
        server, port = serve(folder)
        try:
            quiet, flooded, tally = measure(port, args)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    report(args, quiet, flooded, tally)


def report(args, quiet: list[float], flooded: list[float], tally: dict[int, int]) -> None:
    (quiet50, quiet95), (flood50, flood95) = percentiles(quiet), percentiles(flooded)
    print(f"\nsign-in page, {args.database}, gunicorn on 127.0.0.1 (core.gunicorn_conf), "
          f"{len(quiet)} requests alone and {len(flooded)} under the flood, "
          f"{args.rounds} × {args.seconds:g} s each")
    print(f"  {'':<44} {'p50 ms':>8} {'p95 ms':>8}")
    print(f"  {'alone':<44} {quiet50:>8.1f} {quiet95:>8.1f}")
    label = f"under {FLOOD_CLIENTS} clients × {args.rate:g} wrong passwords/s"
    label += ", spread" if args.spread else ""
    print(f"  {label:<44} {flood50:>8.1f} {flood95:>8.1f}")
    print(f"  {'ratio (target ≤ 2)':<44} {flood50 / quiet50:>8.2f} {flood95 / quiet95:>8.2f}")
    sent = sum(tally.values())
    checked, refused = tally.get(302, 0), tally.get(429, 0)
    print(f"  flood: {sent} attempts, {checked} checked (argon2id), {refused} refused by the "
          f"throttle, {sent - checked - refused} other")


if __name__ == "__main__":
    main()
