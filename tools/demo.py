"""`make demo`: a regional hub and three nodes on 127.0.0.1 — Tunis (country plugin
country_tn), Cairo (country_eg) and Beirut (no country plugin) — with fictional people, cases,
events and library resources, paired and syncing every few seconds, ready to explore.

    python -m tools.demo            # set up .demo/ (once), pair, sync and serve until Ctrl-C
    python -m tools.demo --check    # the same on free ports, a sync round, check, stop
    python -m tools.demo codes      # the demo accounts' current second-factor codes

Each server is its own process, as deployed (gunicorn), and sync is the real `rabita sync`.
From a test (see ``Demo``)::

    with Demo(tmp_path / "demo") as demo:          # free ports; sets up, pairs, syncs
        demo.urls["tunis"], demo.accounts["salma"], demo.code("salma")
        demo.sync_round()                          # hub, nodes, hub
        demo.holdings("hub")                       # {"tunis": {"cases.case": 8, ...}, ...}

Everything here is fictional and for trying Rabita out; never use these accounts for real.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyotp
from flask import Flask
from sqlalchemy import func, select

from core import consent, keystore, migrating, review, users
from core.app import create_app
from core.extensions import db
from federation import identity, peers, signing, statistics
from federation.models import HeldRecord
from plugins.cases import sample as case_samples
from plugins.cases import store as case_store
from plugins.events import sample as event_samples
from plugins.knowledge import sample as knowledge_samples

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo passphrase 2026"  # noqa: S105 - fictional demo accounts only
DEMO_NODE_PASSPHRASE = "demo node passphrase, not for real use"  # noqa: S105
ACCOUNTS = [
    ("nour", "admin"),
    ("salma", "documenter"),
    ("huda", "reviewer"),
    ("amina", "member"),
]
RECORD_PLUGINS = ["plugins.cases", "plugins.events", "plugins.knowledge", "federation"]
# Each server of the demo: its folder, name shown in pages, federation role, usual port, the
# country it documents in (ISO 3166-1; None: the hub), its country plugins and, for a node with
# none, the countries its forms offer (core.config's COUNTRIES).
NODES = [
    {"key": "tunis", "name": "Demo node — Tunis", "role": "node", "port": 5000, "country": "TN",
     "countries": ["plugins.country_tn"], "offered": [], "timezone": "Africa/Tunis"},
    {"key": "cairo", "name": "Demo node — Cairo", "role": "node", "port": 5001, "country": "EG",
     "countries": ["plugins.country_eg"], "offered": [], "timezone": "Africa/Cairo"},
    {"key": "beirut", "name": "Demo node — Beirut", "role": "node", "port": 5002,
     "country": "LB", "countries": [], "offered": ["LB"], "timezone": "Asia/Beirut"},
    {"key": "hub", "name": "Demo regional hub", "role": "hub", "port": 5003, "country": None,
     "countries": ["plugins.country_tn", "plugins.country_eg"], "offered": [],
     "timezone": "UTC"},
]
KEYS = [node["key"] for node in NODES]
MEMBERS = [node["key"] for node in NODES if node["role"] == "node"]
NODE = NODES[0]  # the node whose login page comes first
# What each node writes and shares: fictional cases (how many, then the consent audiences of
# the first shared case, the second...: "peers" ones reach the other nodes through the hub,
# "public-aggregate" ones count in the hub's public statistics), and one event and one library
# resource per audience (members/node-only ones stay home).
SAMPLES = {
    "tunis": {"cases": (40, ["hub peers", "hub peers"] + ["hub public-aggregate"] * 6),
              "events": ["coalition", "public", "members"],
              "resources": ["coalition", "public", "node"]},
    "cairo": {"cases": (30, ["hub peers"] + ["hub public-aggregate"] * 5),
              "events": ["coalition", "public", "members"],
              "resources": ["public", "node"]},
    "beirut": {"cases": (20, ["hub peers"] + ["hub public-aggregate"] * 4),
               "events": ["public", "members"],
               "resources": ["coalition", "node"]},
}
RECORD_WORDS = {"cases.case": ("case", "cases"), "events.event": ("event", "events"),
                "knowledge.resource": ("library resource", "library resources"),
                "knowledge.testimony": ("testimony", "testimonies")}
PURPOSES = ["advocacy", "statistics"]  # what shared cases are consented for (statistics: counted)
# The month (its first day: two months ago) and violation every public case's incidents fall in.
PUBLIC_CELL = ((date.today().replace(day=1) - timedelta(days=40)).replace(day=1),
               "smear-campaign")
SHARED_WITH = ("hub", "peers")  # where shared events and resources are approved to go
SYNC_EVERY = 5.0  # seconds between the demo's sync rounds
SERVE_TIMEOUT = 120  # seconds a server may take to answer once started (a busy laptop)
SYNC_TIMEOUT = 300  # seconds one `rabita sync` may take
STOP_TIMEOUT = 10  # seconds a process has to end when asked, before it is killed
PROCESSES = "processes.txt"  # the ids of the processes the running demo started


def rabita(instance: Path, *args: str, stdin: str | None = None) -> str:
    """Run the real `rabita` command line against a demo instance."""
    command = [*_rabita(instance), *args]
    result = subprocess.run(  # its own session: Ctrl-C reaches the demo, which stops it
        command, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False,
        start_new_session=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"`rabita {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    return result.stdout


# -- setting up the instances --------------------------------------------------------------


def set_up(folder: Path, ports: dict[str, int]) -> dict:
    """Create the demo instances once; return the accounts with their second-factor secrets
    (the same person has the same secret on every demo node, to keep the demo simple)."""
    accounts_file = folder / "accounts.json"
    if accounts_file.exists() and not all((folder / key).exists() for key in KEYS):
        raise SystemExit(f"{folder} was made by an earlier demo (one node, or a hub and two); "
                         "remove it (make clean, or rm -rf .demo) and run make demo again.")
    if accounts_file.exists():
        return json.loads(accounts_file.read_text())
    for key in KEYS:  # a set-up stopped half-way (accounts.json comes last): start again
        shutil.rmtree(folder / key, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    password_file = folder / "password.txt"
    password_file.write_text(DEMO_PASSWORD + "\n")
    passphrase_file = folder / "node-passphrase.txt"
    passphrase_file.write_text(DEMO_NODE_PASSPHRASE + "\n")
    secrets = {name: pyotp.random_base32() for name, role in ACCOUNTS if role != "member"}
    for node in NODES:
        instance = folder / node["key"]
        plugins = [*RECORD_PLUGINS, *node["countries"]]
        rabita(instance, "init", "--node-name", node["name"], "--admin", "nour",
               "--admin-password-file", str(password_file),
               "--passphrase-file", str(passphrase_file),
               *[flag for name in plugins for flag in ("--plugin", name)])
        # Demo only: unlock unattended, so the demo opens ready to use.
        with (instance / "config.py").open("a") as config:
            config.write(f"PASSPHRASE_FILE = {str(passphrase_file)!r}\n"
                         f"FEDERATION_URL = 'http://127.0.0.1:{ports[node['key']]}'\n"
                         f"FEDERATION_ROLE = {node['role']!r}\n"
                         f"EVENTS_TIMEZONE = {node['timezone']!r}\n")
            if node["offered"]:
                config.write(f"COUNTRIES = {node['offered']!r}\n")
        _add_people(instance, secrets)
    accounts = {name: {"role": role, "totp": secrets.get(name)} for name, role in ACCOUNTS}
    accounts_file.write_text(json.dumps(accounts, indent=2))
    return accounts


def upgrade(folder: Path, apps: dict) -> None:
    """`rabita db upgrade`, all at once, on every instance whose database is behind this code
    (a folder set up by older code): each brought up to this code's."""
    behind = [key for key, app in apps.items() if not migrating.up_to_date(app)]
    running = {key: subprocess.Popen(  # noqa: S603 - our own command line, our own folders
        [*_rabita(folder / key), "db", "upgrade"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True) for key in behind}
    try:
        said = {key: process.communicate()[0] for key, process in running.items()}
    finally:
        for process in running.values():
            if process.poll() is None:
                process.terminate()
                process.communicate()
    failed = {key: said[key] for key, process in running.items() if process.returncode != 0}
    if failed:
        raise SystemExit("`rabita db upgrade` failed:\n" + "\n".join(
            f"{key}: {output}" for key, output in failed.items()))


def _add_people(instance: Path, secrets: dict[str, str]) -> None:
    """Demo only: the other demo accounts, each with a known second factor if she needs one."""
    app = _app(instance)
    with app.app_context():
        for username, role in ACCOUNTS[1:]:
            users.create(username, DEMO_PASSWORD, role)
        for username, _role in ACCOUNTS:
            user = users.find(username)
            if user.needs_second_factor():
                user.totp_secret = secrets[username]
        db.session.commit()
    keystore.keystore(app).lock()


def _app(instance: Path):
    return create_app({"INSTANCE_PATH": str(instance)})


# -- fictional records, pairing, sync ------------------------------------------------------


def write_samples(app, key: str) -> dict[str, int]:
    """Salma's fictional cases, events and library resources on node ``key``; for the first
    few cases, the defender's consent; Huda's approval of what may leave. Returns how many
    records of each type were approved to leave."""
    plan = SAMPLES[key]
    timezone = next(node["timezone"] for node in NODES if node["key"] == key)
    with app.test_request_context():
        salma, huda = users.find("salma"), users.find("huda")
        rng = random.Random(f"demo-{key}")
        count, shared_audiences = plan["cases"]
        cases = [case_samples.build(rng, salma) for _ in range(count)]
        for case in cases:
            case.restricted = False  # need-to-know cases are not shared in the demo
        for case, audiences in zip(cases, shared_audiences, strict=False):
            if "public-aggregate" in audiences.split():
                in_one_cell(case)
        case_samples.save(cases, salma)
        db.session.commit()
        for case, audiences in zip(cases, shared_audiences, strict=False):
            consent.record(case, user=salma, given_by="defender", method="oral",
                           audiences=audiences.split(), purposes=PURPOSES,
                           obtained_on=date(2026, 1, 15))
            for audience in audiences.split():
                review.approve(case, audience, huda)
        city = key.capitalize()
        events = event_samples.create(salma, plan["events"], seed=key, timezone=timezone,
                                      city=city)
        resources = knowledge_samples.create(salma, plan["resources"], seed=key)
        shared = {"cases.case": len(shared_audiences), "events.event": 0,
                  "knowledge.resource": 0}
        for record in [*events, *resources]:
            if record.chosen_audiences():
                shared[record.__record_type__] += 1
                for audience in SHARED_WITH:
                    review.approve(record, audience, huda)
    return shared


def in_one_cell(case) -> None:
    """Demo only: a case counted in public happened, every incident of it, in one month and
    one violation (PUBLIC_CELL), so that the hub's public page shows a figure: a cell of
    fewer than k cases, all that random dates and violations would make, shows none."""
    month, violation = PUBLIC_CELL
    for number, incident in enumerate(case.incidents, start=1):
        incident.occurred_on, incident.violation = month.replace(day=number * 3), violation
    case_store.refresh_derived(case)


def pair(apps: dict, urls: dict[str, str]) -> None:
    """Pair each node with the hub, as their administrators would (fingerprints compared)."""

    def fingerprint(key):
        with apps[key].app_context():
            return identity.fingerprint(signing.identity().genesis.public_key)

    hub_id = apps["hub"].config["NODE_ID"]
    for key in MEMBERS:
        with apps[key].test_request_context():
            if peers.find(hub_id) is None:
                peers.add(urls["hub"], fingerprint("hub"), "Regional hub", None)
        with apps["hub"].test_request_context():
            peer = peers.find(apps[key].config["NODE_ID"])
            if not peer.approved:
                peers.approve(peer, fingerprint(key), None)
                peer.label = key.capitalize()
                db.session.commit()


def holdings(app, names: dict[str, str]) -> dict[str, dict[str, int]]:
    """What ``app``'s node holds from other nodes, not withdrawn: by origin (its demo key, from
    ``names``: node id → key), by record type, how many records."""
    with app.app_context():
        rows = db.session.execute(
            select(HeldRecord.origin, HeldRecord.record_type, func.count())
            .where(HeldRecord.tombstoned_at.is_(None))
            .group_by(HeldRecord.origin, HeldRecord.record_type)
        ).all()
    held: dict[str, dict[str, int]] = defaultdict(dict)
    for origin, record_type, count in rows:
        held[names.get(origin, origin[:12])][record_type] = count
    return dict(held)


def describe(held: dict[str, dict[str, int]]) -> str:
    """``{"tunis": {"cases.case": 8}}`` as ``from tunis 8 cases``, origins in order."""
    return "; ".join(
        f"from {origin} " + ", ".join(_count(count, record_type)
                                      for record_type, count in sorted(kinds.items()))
        for origin, kinds in sorted(held.items())) or "nothing"


def _count(count: int, record_type: str) -> str:
    one, many = RECORD_WORDS.get(record_type, (record_type, record_type))
    return f"{count} {one if count == 1 else many}"


# -- the demo, started and stopped ---------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """One running demo server, as a test finds it."""

    key: str  # tunis, cairo, beirut, hub
    name: str
    role: str  # "node" or "hub"
    country: str | None  # the country it documents in (ISO 3166-1): TN, EG, LB; None: the hub
    country_plugins: tuple[str, ...]  # e.g. ("plugins.country_tn",); () for Beirut
    url: str  # http://127.0.0.1:<port>, no trailing slash
    app: Flask  # for reading its database in an app context


class Demo:
    """The four demo servers, each its own process as deployed (gunicorn with the project's
    settings), set up in ``folder`` (or reused from it).

    ``ports``: each server's port by key (``tunis``, ``cairo``, ``beirut``, ``hub``); a folder
    already set up keeps the ports it was set up with (its nodes know one another by them);
    a new folder without ``ports`` gets free ones. ``sync_every``: seconds between sync rounds
    in the background, each node running ``rabita sync --every`` as an operator would (None:
    only the first round and those ``sync_round()`` runs).

    After ``start()`` (or entering ``with``): ``servers`` (key → ``Server``: url, role,
    country, app...), ``urls`` (key → base URL, no trailing slash), ``accounts`` (username →
    {"role", "totp"}), ``password`` and ``passphrase`` (every account's and every node's),
    ``apps`` (key → Flask app in this process, for reading a node's database). ``stop()`` (or
    leaving ``with``, also on an exception) stops syncing and serving and locks every node.
    Each server's log is ``<folder>/<key>/server.log``; a background sync's ``sync.log``.
    """

    def __init__(self, folder: Path | str, ports: dict[str, int] | None = None, *,
                 sync_every: float | None = None, quiet: bool = True):
        self.folder = Path(folder).resolve()
        self.ports = self._ports(ports)
        self.sync_every, self.quiet = sync_every, quiet
        self.password, self.passphrase = DEMO_PASSWORD, DEMO_NODE_PASSPHRASE
        self.accounts: dict = {}
        self.apps: dict = {}
        self.urls = {key: f"http://127.0.0.1:{port}" for key, port in self.ports.items()}
        self.servers: dict[str, Server] = {}
        self._processes: dict[str, subprocess.Popen] = {}  # "<key> server", "<key> sync"
        self._syncing = threading.Lock()
        self.hold_signals = False  # writing samples or stopping: a signal waits for the end

    def _ports(self, asked: dict[str, int] | None) -> dict[str, int]:
        ports_file = self.folder / "ports.json"
        if ports_file.exists():
            kept = json.loads(ports_file.read_text())
            if set(kept) == set(KEYS):
                if asked and asked != kept:
                    raise ValueError(f"{self.folder} was set up on ports {kept}; the demo's "
                                     "nodes know one another by them")
                return kept
        return dict(asked) if asked else free_ports()

    def __enter__(self) -> Demo:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def start(self) -> None:
        """Set up (or reuse), write the samples once, serve, pair, run one sync round."""
        os.environ.pop("RABITA_INSTANCE_PATH", None)
        end_leftovers(self.folder)
        self.accounts = set_up(self.folder, self.ports)
        (self.folder / "ports.json").write_text(json.dumps(self.ports))
        try:
            self.apps = {key: _app(self.folder / key) for key in KEYS}
            upgrade(self.folder, self.apps)
            self.servers = {node["key"]: Server(
                node["key"], node["name"], node["role"], node["country"],
                tuple(node["countries"]), self.urls[node["key"]], self.apps[node["key"]])
                for node in NODES}
            self._write_samples()
            for key in KEYS:
                self._processes[f"{key} server"] = self._child(key, "server.log", [
                    sys.executable, "-m", "gunicorn", "-c", "python:core.gunicorn_conf",
                    "--workers", "1", "--graceful-timeout", "5",
                    "--bind", f"127.0.0.1:{self.ports[key]}", "core.wsgi:app"])
            for key in KEYS:
                self._wait_until_serving(key)
            pair(self.apps, self.urls)
            self._report(self.sync_round())
            if self.sync_every:
                for key in KEYS:
                    self._processes[f"{key} sync"] = self._child(key, "sync.log", [
                        *_rabita(self.folder / key), "sync", "--every", f"{self.sync_every:g}",
                        "--quiet"])
        except BaseException:
            self.stop()
            raise

    def _write_samples(self) -> None:
        """Each node's fictional records, once: ``shared.json`` says whose are written (a
        signal meanwhile waits until the node's are, so none is written twice or half)."""
        shared_file = self.folder / "shared.json"
        shared = json.loads(shared_file.read_text()) if shared_file.exists() else {}
        for key in MEMBERS:
            if key not in shared:
                self.hold_signals = True
                shared[key] = write_samples(self.apps[key], key)
                shared_file.write_text(json.dumps(shared, indent=2))
                self.hold_signals = False

    def _child(self, key: str, log: str, command: list[str]) -> subprocess.Popen:
        """A process of node ``key`` (in a session of its own: Ctrl-C reaches the demo, which
        stops it), its output appended to ``log`` in the node's folder."""
        with (self.folder / key / log).open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - our own commands, our own folders
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(os.environ, RABITA_INSTANCE_PATH=str(self.folder / key)))
        with (self.folder / PROCESSES).open("a") as started:
            started.write(f"{process.pid}\n")
        return process

    def _wait_until_serving(self, key: str) -> None:
        process = self._processes[f"{key} server"]
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", self.ports[key], timeout=10)
            try:
                connection.request("GET", "/.well-known/rabita")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            if process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / key / "server.log").read_text(errors="replace")
                raise SystemExit(f"The demo's {key} server did not start; the end of its log "
                                 f"({self.folder / key / 'server.log'}):\n{log[-2000:]}")
            time.sleep(0.3)

    def sync_round(self) -> list[str]:
        """`rabita sync` on the hub (it pulls from every node), on every node at once (each
        pulls what the hub relays), then on the hub again (receipts): after it, what any node
        shared is wherever it may go. Returns what went wrong (nothing: [])."""
        with self._syncing:
            return [problem for keys in (["hub"], MEMBERS, ["hub"])
                    for problem in self._sync(keys)]

    def _sync(self, keys: list[str]) -> list[str]:
        running = {key: subprocess.Popen(  # noqa: S603 - our own command, our own folders
            [*_rabita(self.folder / key), "sync", "--quiet"], cwd=ROOT, text=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, env=dict(os.environ, RABITA_INSTANCE_PATH=str(
                self.folder / key))) for key in keys}
        said = {}
        try:
            said = {key: process.communicate(timeout=SYNC_TIMEOUT)[0]
                    for key, process in running.items()}
        finally:
            _end(running.values())
        return [f"{key} → {line}" for key, process in running.items() if process.returncode
                for line in said.get(key, "").splitlines() if line.strip()]

    def _report(self, problems: list[str]) -> None:
        if not self.quiet:
            for problem in problems:
                print(f"Sync: {problem}", flush=True)

    def node_ids(self) -> dict[str, str]:
        """Node id → demo key, for every server."""
        return {app.config["NODE_ID"]: key for key, app in self.apps.items()}

    def holdings(self, key: str) -> dict[str, dict[str, int]]:
        """What server ``key`` holds from the others: origin key → record type → count."""
        return holdings(self.apps[key], self.node_ids())

    def statistics_k(self) -> int:
        """The smallest count the hub's statistics pages show (a smaller one is hidden)."""
        with self.apps["hub"].app_context():
            return statistics.k()

    def code(self, username: str) -> str | None:
        """``username``'s second-factor code now (None: she needs none)."""
        secret = self.accounts[username]["totp"]
        return pyotp.TOTP(secret).now() if secret else None

    def stop(self) -> None:
        """Stop syncing, then serving (each process asked to end, killed if it does not
        within seconds); lock every node and close its database connections here
        (``put_away``)."""
        self.hold_signals = True
        with self._syncing:  # a round under way ends first
            syncing = [p for name, p in self._processes.items() if name.endswith(" sync")]
            _end(syncing)
            _end(self._processes.values())
            self._processes.clear()
            (self.folder / PROCESSES).unlink(missing_ok=True)
        put_away(self.apps)
        self.hold_signals = False


def put_away(apps: dict) -> None:
    """Lock each node (no unlocked keyring left in /dev/shm) and close its database
    connections in this process. An SQLite connection left open is fragile: SQLite's locks
    are POSIX locks, which the process loses on the file as soon as it closes *any* handle
    on it — a copy of the folder, a read of the file — and then another process, ending its
    last connection, believes it was the last, checkpoints and deletes the WAL; the open
    connection goes on reading the deleted WAL, a snapshot that never changes again (this is
    what stalled the demo's tests: a demo stopped, its folder copied, a new demo's holdings
    frozen)."""
    for app in apps.values():
        keystore.keystore(app).lock()
        with app.app_context():
            db.engine.dispose()


def _rabita(instance: Path) -> list[str]:
    return [sys.executable, "-m", "core.cli", "--instance", str(instance)]


def end_leftovers(folder: Path) -> None:
    """End the processes an earlier demo in ``folder`` started and left running (it was
    killed, and could not stop them): those listed in ``PROCESSES`` that still serve or sync
    one of its nodes (their environment names its folder), by their ids."""
    listed = folder / PROCESSES
    if not listed.exists():
        return
    for pid in {int(line) for line in listed.read_text().split()}:
        try:
            environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:  # ended already (or no /proc here)
            continue
        if any(entry.startswith(f"RABITA_INSTANCE_PATH={folder}{os.sep}".encode())
               for entry in environment):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
                _wait_for_end(pid)
    listed.unlink()


def _wait_for_end(pid: int) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)


def _end(processes) -> None:
    """Ask every process still running to end (SIGTERM), wait, kill those that do not."""
    processes = [p for p in processes if p.poll() is None]
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_ports() -> dict[str, int]:
    ports = {}
    with socket.socket() as a, socket.socket() as b, socket.socket() as c, \
            socket.socket() as d:
        for key, probe in zip(KEYS, (a, b, c, d), strict=True):
            probe.bind(("127.0.0.1", 0))  # all held at once: four different ports
            ports[key] = probe.getsockname()[1]
    return ports


# -- the command line ----------------------------------------------------------------------


def print_welcome(accounts: dict, urls: dict[str, str], report: list[str] | None = None) -> None:
    print()
    for node in NODES:
        plugins = ", ".join(p.removeprefix("plugins.") for p in node["countries"]) or \
            f"no country plugin: places from ISO 3166, COUNTRIES = {node['offered']}"
        print(f"{node['name']:<22} {urls[node['key']]}/login   ({plugins})")
    for line in report or []:
        print(f"  {line}")
    print(f"Every demo account's password (on every node): {DEMO_PASSWORD}")
    print(f"Node passphrase (unlocks identifying data): {DEMO_NODE_PASSPHRASE}")
    for username, account in accounts.items():
        if account["totp"]:
            code = pyotp.TOTP(account["totp"]).now()
            print(f"  {username:<6} {account['role']:<10} code now: {code}  "
                  f"(secret for an authenticator app: {account['totp']})")
        else:
            print(f"  {username:<6} {account['role']:<10} (no second factor needed)")
    print("Salma (documenter) and Huda (reviewer) see each node's fictional cases, events and "
          "library, and which were consented, approved and shared; Nour (admin) sees the "
          "pairing and sync on each node's Partner nodes page; the hub shows the regional "
          "statistics, the shared calendar and library. What anyone may see, without signing "
          f"in: {urls['hub']}/public/statistics")
    print(f"The nodes sync every {SYNC_EVERY:g} seconds. Fresh codes any time: make demo-codes. "
          "Stop with Ctrl-C.\n", flush=True)


def report_lines(demo: Demo) -> list[str]:
    return [f"{key} holds: {describe(demo.holdings(key))}" for key in KEYS]


def check(demo: Demo) -> None:
    """Each server serves its login page; the hub holds records from every node; every node
    got what the others shared with partner nodes. Raises SystemExit otherwise."""
    for key, url in demo.urls.items():
        with urllib.request.urlopen(f"{url}/login", timeout=10) as response:  # noqa: S310
            body = response.read().decode()
        if response.status != 200 or 'id="username"' not in body:
            raise SystemExit(f"The demo's {key} did not serve its login page.")
    print(f"The demo's {len(demo.urls)} servers serve their login pages "
          f"({', '.join(f'{key} {url}' for key, url in demo.urls.items())}).")
    problems = demo.sync_round()
    if problems:
        raise SystemExit("A sync round failed: " + "; ".join(problems))
    hub = demo.holdings("hub")
    missing = [key for key in MEMBERS if not hub.get(key)]
    if missing:
        raise SystemExit(f"After a sync round the hub holds nothing from {', '.join(missing)}.")
    for key in MEMBERS:
        others = [other for other in MEMBERS if other != key]
        if not any(demo.holdings(key).get(other) for other in others):
            raise SystemExit(f"After a sync round {key} holds nothing from the other nodes.")
    for line in report_lines(demo):
        print(f"Paired and synced: {line}")
    counted = public_cell(demo)
    if min(counted.values()) < demo.statistics_k():
        raise SystemExit(f"The hub's public statistics would hide the demo's cell: {counted}.")
    print("The hub counts, in public, cases of " + ", ".join(
        f"{country} {count}" for country, count in counted.items()) + f" in {PUBLIC_CELL[1]} "
        f"in {PUBLIC_CELL[0]:%Y-%m} (shown from {demo.statistics_k()}).")


def public_cell(demo: Demo) -> dict[str, int]:
    """How many cases the hub counts in public in PUBLIC_CELL, for Tunisia and Egypt (each
    has at least k public cases in it; Beirut fewer, hidden)."""
    month, violation = PUBLIC_CELL
    with demo.apps["hub"].app_context():
        return {country: db.session.scalar(
            select(func.count(func.distinct(statistics.Fact.record_id))).where(
                statistics.Fact.public.is_(True), statistics.Fact.country == country,
                statistics.Fact.violation == violation,
                statistics.Fact.month == month.year * 100 + month.month))
            for country in ("TN", "EG")}


class Interrupted(Exception):
    """Ctrl-C or SIGTERM while the demo starts."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "codes"])
    parser.add_argument("--dir", default=str(ROOT / ".demo"), help="where the demo lives")
    parser.add_argument("--check", action="store_true", help="serve, sync, check, stop")
    args = parser.parse_args(argv)
    folder = Path(args.dir).resolve()
    # Usual ports for a new demo; a demo set up already keeps its own (ports.json).
    default_ports = None if args.check or (folder / "ports.json").exists() \
        else {node["key"]: node["port"] for node in NODES}
    if args.command == "codes":
        demo = Demo(folder, default_ports)
        accounts_file = folder / "accounts.json"
        accounts = json.loads(accounts_file.read_text()) if accounts_file.exists() \
            else set_up(folder, demo.ports)
        print_welcome(accounts,
                      {key: f"http://127.0.0.1:{port}" for key, port in demo.ports.items()})
        return
    demo = Demo(folder, default_ports, sync_every=None if args.check else SYNC_EVERY,
                quiet=False)
    stop, ready = threading.Event(), threading.Event()

    def on_signal(_signum, _frame):
        stop.set()
        if not ready.is_set() and not demo.hold_signals:
            raise Interrupted  # out of start(), which stops what it started

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: its terminal closed
        signal.signal(signum, on_signal)
    try:
        with demo:
            ready.set()
            if args.check:
                check(demo)
                return
            print_welcome(demo.accounts, demo.urls, report_lines(demo))
            print("Ready.", flush=True)
            while not stop.wait(1):
                pass
            print("Stopping the demo's servers…", flush=True)
    except Interrupted:
        print("Stopped before the demo was ready; the next make demo takes it up again.")


if __name__ == "__main__":
    main()
