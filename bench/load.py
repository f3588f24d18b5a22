"""Load: page views by signed-in people, the federation endpoints and a soak, on a node with
10,000 fictional cases served by gunicorn as deployed, everything on 127.0.0.1.

    python -m bench.load                                   # SQLite, 10,000 cases, ~13 min
    python -m bench.load --database postgresql
    python -m bench.load --soak 0 --duration 30            # no soak, shorter phases

The node (made once, then kept under .bench/: ``rabita init`` with the cases, Tunisia and
federation plugins, ``rabita cases sample``, an admin, a documenter and a reviewer with
second factors, ``--entries`` signed entries in its partner feed) is served by gunicorn with
the project's settings (``-c python:core.gunicorn_conf --workers 2``: 2 workers of 4 threads,
as ``deploy/systemd/rabita.service`` starts it), unlocked by its passphrase file. The three
sign in with password and code; their sessions' requests are what ``wrk`` (Debian's package)
sends, over ``--connections`` keep-alive connections, each connection sending its next
request when the last is answered (``bench/load.lua`` takes them in turn from a file):

- **pages**: each class of page alone for ``--class-seconds`` (lists by page, case pages,
  searches posted with the CSRF token, the account page, the records shared with us), then
  the mix of them (``MIX``) for ``--duration``: req/s, p50/p95/p99 and answers that were not
  2xx. Target (issue 21): the mix at ≥ 200 req/s with p95 ≤ 200 ms on 2 cores.
- **federation**: a paired partner (``federation.testing.Node``, in this process) pulls pages
  of the partner feed with signed requests (``federation.client.PeerClient``: each request
  signed, each answer verified) on ``--peer-clients`` threads, and the node's document
  (``/.well-known/rabita``) is read on one more; for ``--federation-seconds`` alone, then as
  long again while the page mix runs.
- **soak**: the page mix and one partner pulling for ``--soak`` seconds; the resident memory
  of gunicorn's master and workers (/proc) every ``--sample-every`` seconds, and its growth
  from the first minute's mean to the last's. Target: < 10 %.

Each phase is bounded in time. Figures are for comparison on one machine; this is not a
test (tests/bench/test_load.py runs it for a few seconds so that it keeps working).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pyotp

from bench.cases import (  # the node is made and served as the cases pages' bench does
    PASSPHRASE,
    PASSWORD,
    ROOT,
    STATE,
    Browser,
    _reset_schema,
    gunicorn,
    rabita,
)
from federation import client, identity, peers, signing
from federation.reasons import Refused
from federation.testing import Node
from plugins.cases.store import PAGE_SIZE

LUA = Path(__file__).with_suffix(".lua")
PEOPLE = {  # who signs in: role and second factor (fictional, local only)
    "nour": ("admin", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    "salma": ("documenter", "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"),
    "rania": ("reviewer", "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"),
}
WORDS = ["tunisie", "passeport", "الشرطة", "menaces"]  # searched for, as people type them
MIX = {"list": 30, "case": 30, "search": 15, "account": 10, "shared": 15}  # % of the mix
PEER_LABEL = "load partner"
DOCUMENT_RATE = 10  # node documents read a second
CASE_PAGES = 100  # case pages each person asks for, of those her list pages show
TARGET_RATE, TARGET_P95, TARGET_GROWTH = 200, 200, 10


# -- the node --------------------------------------------------------------------------------


def prepare(state: Path, database: str, count: int, entries: int) -> tuple[Path, dict]:
    """The node's instance folder and environment: made once, reused while ``ready``."""
    folder = state / f"load-{database}-{count}"
    instance = folder / "node"
    env = dict(os.environ, RABITA_KEY_SHARE_DIR='""', RABITA_BENCH_CODE=str(ROOT),
               RABITA_INSTANCE_PATH=str(instance))
    if database == "postgresql":
        url = os.environ.get("RABITA_TEST_POSTGRES_URL",
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        schema = f"bench_load_{count}"
        env["RABITA_SQLALCHEMY_DATABASE_URI"] = f'"{url}?options=-csearch_path%3D{schema}"'
    if (folder / "ready").exists():
        return instance, env
    if database == "postgresql":
        _reset_schema(url, schema)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "password").write_text(PASSWORD + "\n")
    (folder / "passphrase").write_text(PASSPHRASE + "\n")
    rabita(instance, env, "init", "--admin", "nour", "--admin-password-file",
           str(folder / "password"), "--passphrase-file", str(folder / "passphrase"),
           "--plugin", "plugins.cases", "--plugin", "plugins.country_tn",
           "--plugin", "federation")
    for name, (role, _secret) in PEOPLE.items():
        if role != "admin":
            rabita(instance, env, "users", "create", name, "--role", role,
                   "--password-file", str(folder / "password"))
    started = time.perf_counter()
    rabita(instance, env, "cases", "sample", str(count), "--seed", "1",
           "--passphrase-file", str(folder / "passphrase"))
    print(f"  generated {count:,} cases in {time.perf_counter() - started:,.0f} s", flush=True)
    on_node(env, FINISH, {"people": PEOPLE, "entries": entries})
    (folder / "ready").write_text("ok\n")
    return instance, env


# Run on the node, in a process of its own (its environment names the node): second factors,
# signed entries in the partner feed, fresh planner statistics.
FINISH = """
from core.users import find
from federation.testing import insecure_fill
from sqlalchemy import text
for name, (_role, secret) in given["people"].items():
    find(name).totp_secret = secret
db.session.commit()
insecure_fill(given["entries"], feed="peers")
if db.engine.dialect.name == "sqlite":
    db.session.execute(text("ANALYZE"))
    db.session.commit()
else:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
"""

# The node's administrator adds the partner (reading its fingerprint), as `rabita peers add`
# does but with the document given: the partner serves nothing. An earlier run's is removed.
PAIR = """
from federation import identity, peers, signing
from federation.models import Peer
from sqlalchemy import select
for old in db.session.scalars(select(Peer).where(Peer.label == given["label"])).all():
    peers.remove(old, None)
peers.add(given["url"], given["fingerprint"], given["label"], None,
          document=given["document"], send_request=False)
answer = {"document": identity.node_document(),
          "fingerprint": identity.fingerprint(signing.identity().genesis.public_key)}
"""

PRELUDE = """
import json, sys
from core import keystore
from core.app import create_app
from core.extensions import db
given = json.loads(sys.stdin.read())
answer = None
app = create_app()
with app.test_request_context():
    keystore.keystore().unlock_here(given["passphrase"])
{body}
print(json.dumps(answer))
"""


def on_node(env: dict, body: str, given: dict) -> dict | None:
    """Run ``body`` in the node's app (unlocked) in a process of its own; its ``answer``."""
    script = PRELUDE.format(body="\n".join("    " + line for line in body.strip().splitlines()))
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                            input=json.dumps({**given, "passphrase": PASSPHRASE}),
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"on the node:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def partner(folder: Path, env: dict):
    """A fresh partner node in this process (its own keys and SQLite file), added by the
    node's administrator; it approves the node once the node is served (``approve``)."""
    (folder / "shm").mkdir(mode=0o700)
    peer = Node("partner", folder / "partner", f"sqlite:///{folder / 'partner.db'}", "node",
                ["federation"], folder / "shm")
    with peer.context():
        document = identity.node_document()
        fingerprint = identity.fingerprint(signing.identity().genesis.public_key)
    node = on_node(env, PAIR, {"url": peer.url, "fingerprint": fingerprint,
                               "label": PEER_LABEL, "document": document})
    return peer, node


def approve(peer, node: dict, url: str) -> str:
    """The partner adds the node (served at ``url``); returns the node's id."""
    with peer.context():
        added = peers.add(url, node["fingerprint"], "load node", None,
                          document=node["document"], send_request=False)
        return added.node_id


# -- signing in and what the people ask for --------------------------------------------------


def sign_in(port: int, name: str, secret: str, deadline: float) -> Browser:
    """Password, then code. A refusal for now (429: a worker's hashing budget) is tried again
    after the time it names; a refused code (a node still unlocking) with the next code."""
    while time.monotonic() < deadline:
        browser = Browser(port)  # a fresh connection: gunicorn closes one idle for 2 s
        status, _page, headers = browser.request("POST", "/login", {
            "username": name, "password": PASSWORD, "csrf_token": _token(browser, "/login")})
        if status == 429:
            time.sleep(float(headers.get("Retry-After", 1)))
            continue
        if headers.get("Location", "").endswith("/login/code"):
            status, _page, headers = browser.request("POST", "/login/code", {
                "code": pyotp.TOTP(secret).now(), "csrf_token": _token(browser, "/login/code")})
        if browser.request("GET", "/account/")[0] == 200:
            return browser
        print(f"  {name}: signing in answered {status}; trying again with the next code",
              flush=True)
        time.sleep(31 - time.time() % 30)
    raise SystemExit(f"{name} could not sign in.")


def _token(browser: Browser, path: str) -> str:
    page = browser.request("GET", path)[1]
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def requests_of(browser: Browser, pages: int, rng: random.Random) -> dict[str, list]:
    """What one signed-in person asks for, by class, each tried once (only 200s are kept):
    her first list page and others by number, anywhere in her list; case pages found on
    them; searches; her account; the records shared with the node."""
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    asked: dict[str, list] = {name: [] for name in MIX}
    first = browser.request("GET", "/cases/")[1]
    shown = re.search(r'<p class="count">\s*[^\d<]*(\d+)', first)
    last = max(1, -(-int(shown.group(1)) // PAGE_SIZE)) if shown else 1
    cases: set[str] = set()
    for number in sorted({1, *rng.sample(range(1, last + 1), min(pages, last) - 1)}):
        status, page, _ = browser.request("GET", f"/cases/?page={number}")
        if status == 200:
            asked["list"].append(("GET", f"/cases/?page={number}", cookie, ""))
            cases.update(re.findall(r'href="/cases/([0-9a-f-]{36})"', page))
    for uuid in sorted(rng.sample(sorted(cases), min(len(cases), CASE_PAGES))):
        if browser.request("GET", f"/cases/{uuid}")[0] == 200:
            asked["case"].append(("GET", f"/cases/{uuid}", cookie, ""))
    token = _token(browser, "/cases/")
    for word in WORDS:
        form = {"q": word, "csrf_token": token}
        if browser.request("POST", "/cases/", form)[0] == 200:
            asked["search"].append(("POST", "/cases/", cookie, urlencode(form)))
    for name, path in (("account", "/account/"), ("shared", "/federation/shared")):
        if browser.request("GET", path)[0] == 200:
            asked[name].append(("GET", path, cookie, ""))
    return asked


def mix(asked: dict[str, list], rng: random.Random, size: int = 2000) -> list:
    """``size`` requests drawn class by class in the proportions of ``MIX``."""
    classes = [name for name in MIX if asked[name]]
    drawn = rng.choices(classes, weights=[MIX[name] for name in classes], k=size)
    return [rng.choice(asked[name]) for name in drawn]


# -- wrk ---------------------------------------------------------------------------------------


RUNNING: list = []  # the children's CPU time when the running wrk started


def wrk(port: int, lines: list, seconds: float, connections: int, threads: int,
        folder: Path) -> subprocess.Popen:
    """wrk sending ``lines`` in turn for ``seconds`` (started; ``figures`` reads its end)."""
    requests = folder / f"requests-{time.monotonic_ns()}.tsv"
    requests.write_text("".join("\t".join(line) + "\n" for line in lines))
    RUNNING.append(resource.getrusage(resource.RUSAGE_CHILDREN))
    return subprocess.Popen(
        ["wrk", "--threads", str(min(threads, connections)), "--connections", str(connections),
         "--duration", f"{max(1, round(seconds))}s", "--timeout", "30s", "--script", str(LUA),
         f"http://127.0.0.1:{port}", "--", str(requests)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def figures(run: subprocess.Popen, seconds: float) -> dict:
    output = run.communicate(timeout=seconds + 60)[0]
    found = re.search(r"^LOAD-JSON (.*)$", output, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk gave no figures:\n{output[-2000:]}")
    result = json.loads(found.group(1))
    # One wrk at a time: the children's time since it started is its own.
    before, after = RUNNING.pop(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result["wrk_cpu"] = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) \
        / result["seconds"]
    result["rate"] = result["requests"] / result["seconds"]
    result["errors"] = result["non2xx"] + sum(result[k] for k in ("connect", "read", "write",
                                                                  "timeout"))
    return result


PAGE_HEAD = (f"  {'':<42} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
             f"{'requests':>9} {'not 2xx/errors':>15}")


def page_row(label: str, result: dict) -> str:
    return (f"  {label:<42} {result['rate']:>8.1f} {result['p50']:>8.1f} {result['p95']:>8.1f} "
            f"{result['p99']:>8.1f} {result['requests']:>9,} {result['errors']:>15,}")


# -- federation ----------------------------------------------------------------------------


@dataclass
class Tally:
    """Times (ms) and refusals of one class of federation request."""

    times: list[float] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, started: float, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.times.append((time.perf_counter() - started) * 1000)
            else:
                self.refused[error] = self.refused.get(error, 0) + 1


def pulling(peer, node_id: str, url: str, limit: int, until: float,
            tally: Tally) -> None:
    """A partner's pulls, one after another: signed, each answer verified. The client tries
    a transient failure again (as a sync does); a pull refused in the end is counted."""
    rng, head = random.Random(), 0  # the feed's head, as the last page said
    with peer.app.app_context():
        puller = client.PeerClient(url, peer=peers.find(node_id))
        while time.monotonic() < until:
            started, error, after = time.perf_counter(), None, rng.randrange(max(1, head - limit))
            try:
                page = json.loads(puller.get("/federation/outbox", feed="peers", after=after,
                                             limit=limit))
                head = page["head"]
                if len(page["items"]) != min(limit, head - after):
                    error = "short page"
            except Refused as refused:
                error = refused.code
            tally.add(started, error)


def reading_document(port: int, until: float, tally: Tally) -> None:
    """``/.well-known/rabita``, ``DOCUMENT_RATE`` times a second (nodes read it when they
    pair and to learn new keys: a trickle, not a flood), each on a connection of its own."""
    due = time.monotonic()
    while (due := due + 1 / DOCUMENT_RATE) < until:
        time.sleep(max(0.0, due - time.monotonic()))
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/.well-known/rabita")
            answer = connection.getresponse()
            answer.read()
            tally.add(started, None if answer.status == 200 else str(answer.status))
        except OSError:
            tally.add(started, "unreachable")
        finally:
            connection.close()


def federation_load(peer, node_id: str, port: int, seconds: float, clients: int,
                    limit: int) -> dict[str, Tally]:
    url, until = f"http://127.0.0.1:{port}", time.monotonic() + seconds
    tallies = {"feed pages pulled (signed)": Tally(), "node document": Tally()}
    pull, document = tallies.values()
    workers = [threading.Thread(target=pulling, args=(peer, node_id, url, limit, until, pull))
               for _ in range(clients)]
    workers.append(threading.Thread(target=reading_document, args=(port, until, document)))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 120)
    return tallies


def federation_rows(tallies: dict[str, Tally], seconds: float, when: str = "") -> list[str]:
    rows = []
    for name, tally in tallies.items():
        label = when + name
        times = sorted(tally.times) or [0.0]
        refused = ", ".join(f"{code} {n}" for code, n in sorted(tally.refused.items())) or "0"
        rows.append(f"  {label:<42} {len(tally.times) / seconds:>8.1f} "
                    f"{statistics.median(times):>8.1f} {percentile(times, 95):>8.1f} "
                    f"{percentile(times, 99):>8.1f} {len(tally.times):>9,} {refused:>15}")
    return rows


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * share / 100) - 1))]


# -- memory ------------------------------------------------------------------------------------


def resident_mb(server: subprocess.Popen) -> float:
    """The resident memory of gunicorn's master and its workers, in MB."""
    pids = [str(server.pid), *Path(f"/proc/{server.pid}/task/{server.pid}/children")
            .read_text().split()]
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total / 1024


def soak(server, port: int, lines: list, args, folder: Path, peer, node_id: str) -> None:
    """The mix and one partner pulling for ``--soak`` seconds, memory sampled meanwhile."""
    run = wrk(port, lines, args.soak, args.connections, args.threads, folder)
    pulls = {"feed pages pulled (signed)": Tally()}
    puller = threading.Thread(target=pulling, args=(
        peer, node_id, f"http://127.0.0.1:{port}", args.limit,
        time.monotonic() + args.soak, pulls["feed pages pulled (signed)"]))
    puller.start()
    samples, started = [], time.monotonic()
    while (moment := time.monotonic() - started) < args.soak:
        samples.append((moment, resident_mb(server)))
        time.sleep(min(args.sample_every, max(0.0, args.soak - moment)))
    samples.append((time.monotonic() - started, resident_mb(server)))
    result = figures(run, args.soak)
    puller.join(timeout=120)
    print(PAGE_HEAD)
    print(page_row("page mix", result))
    print(*federation_rows(pulls, args.soak), sep="\n")
    window = min(60.0, args.soak / 3)
    first = statistics.mean(mb for at, mb in samples if at <= window)
    last = statistics.mean(mb for at, mb in samples if at >= samples[-1][0] - window)
    for at, mb in samples[:: max(1, round(60 / args.sample_every))]:
        print(f"    at {at:>5.0f} s: {mb:,.0f} MB")
    print(f"  resident memory, master and workers: first {window:.0f} s {first:,.0f} MB, last "
          f"{window:.0f} s {last:,.0f} MB: growth {100 * (last - first) / first:+.1f} % "
          f"(target < {TARGET_GROWTH} %)")


# -- the run -------------------------------------------------------------------------------------


def run(args) -> None:
    state = Path(args.state)
    print(f"Rabita load bench — Python {platform.python_version()}, {platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.database}, "
          f"{args.cases:,} cases, gunicorn -c python:core.gunicorn_conf --workers 2 on "
          f"127.0.0.1; wrk, {args.connections} connections", flush=True)
    instance, env = prepare(state, args.database, args.cases, args.entries)
    folder = Path(tempfile.mkdtemp(prefix="rabita-load-"))
    peer = server = None
    try:
        peer, node = partner(folder, env)
        passphrase = instance.parent / "passphrase"  # each worker unlocks with it, as deployed
        server, port = gunicorn(instance, dict(env, RABITA_PASSPHRASE_FILE=f'"{passphrase}"'),
                                "-c", "python:core.gunicorn_conf")
        node_id = approve(peer, node, f"http://127.0.0.1:{port}")
        measure(server, port, args, folder, peer, node_id)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        if peer is not None:
            peer.close()
        shutil.rmtree(folder, ignore_errors=True)


def measure(server, port: int, args, folder: Path, peer, node_id: str) -> None:
    rng = random.Random(21)
    deadline = time.monotonic() + 120
    asked: dict[str, list] = {name: [] for name in MIX}
    for name, (_role, secret) in PEOPLE.items():
        for label, lines in requests_of(sign_in(port, name, secret, deadline), args.pages,
                                        rng).items():
            asked[label] += lines
    print("  requests prepared (each answered 200 once): " + ", ".join(
        f"{label} {len(lines)}" for label, lines in asked.items()), flush=True)
    if not all(asked.values()):
        raise SystemExit("a class of page has no request that was answered 200")
    lines = mix(asked, rng)
    started = time.perf_counter()
    print(f"\npages, {args.connections} connections (each class alone "
          f"{args.class_seconds:g} s, then the mix {args.duration:g} s: "
          + ", ".join(f"{name} {share} %" for name, share in MIX.items()) + ")")
    print(PAGE_HEAD)
    for label, class_lines in asked.items():
        result = figures(wrk(port, class_lines, args.class_seconds, args.connections,
                             args.threads, folder), args.class_seconds)
        print(page_row(label, result), flush=True)
    result = figures(wrk(port, lines, args.duration, args.connections, args.threads, folder),
                     args.duration)
    print(page_row("page mix", result))
    print(f"  (wrk itself used {100 * result['wrk_cpu']:.0f} % of one core)")
    met = result["rate"] >= TARGET_RATE and result["p95"] <= TARGET_P95
    print(f"  target ≥ {TARGET_RATE} req/s at p95 ≤ {TARGET_P95} ms: "
          f"{'met' if met else 'not met'}", flush=True)

    seconds = args.federation_seconds
    print(f"\nfederation, {args.peer_clients} partner pulls of {args.limit} entries at once "
          f"and one reader of the node document ({seconds:g} s alone, then under the mix)")
    print(PAGE_HEAD.replace("not 2xx/errors", "refused"))
    alone = federation_load(peer, node_id, port, seconds, args.peer_clients, args.limit)
    print(*federation_rows(alone, seconds, "alone: "), sep="\n")
    run = wrk(port, lines, seconds, args.connections, args.threads, folder)
    loaded = federation_load(peer, node_id, port, seconds, args.peer_clients, args.limit)
    print(*federation_rows(loaded, seconds, "under the mix: "), sep="\n")
    print(page_row("page mix meanwhile", figures(run, seconds)), flush=True)

    if args.soak > 0:
        print(f"\nsoak, {args.soak:g} s: the page mix and one partner pulling")
        soak(server, port, lines, args, folder, peer, node_id)
    print(f"\n(measured in {time.perf_counter() - started:,.0f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--entries", type=int, default=2000,
                        help="signed entries in the partner feed (when the node is made)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of the page mix")
    parser.add_argument("--class-seconds", type=float, default=15,
                        help="seconds of each class of page alone")
    parser.add_argument("--federation-seconds", type=float, default=30,
                        help="seconds of federation alone, then as long under the mix")
    parser.add_argument("--soak", type=float, default=600, help="seconds (0: no soak)")
    parser.add_argument("--sample-every", type=float, default=10, help="seconds")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--peer-clients", type=int, default=2)
    parser.add_argument("--limit", type=int, default=100, help="entries a pull asks for")
    parser.add_argument("--pages", type=int, default=20,
                        help="list pages each person asks for (her case pages: "
                        f"{CASE_PAGES} of the cases on them)")
    parser.add_argument("--state", default=str(STATE), help="where the node is kept")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    run(args)


if __name__ == "__main__":
    main()
