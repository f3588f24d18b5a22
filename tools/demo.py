"""`make demo`: a regional hub and two nodes on 127.0.0.1, with fictional people and records,
paired and synced, ready to explore.

    python -m tools.demo            # set up .demo/ (once), pair, sync and serve until Ctrl-C
    python -m tools.demo --check    # the same on free ports, fetch each login page, stop
    python -m tools.demo codes      # the demo accounts' current second-factor codes

Everything here is fictional and for trying Rabita out; never use these accounts for real.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from datetime import date
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo passphrase 2026"  # noqa: S105 - fictional demo accounts only
DEMO_NODE_PASSPHRASE = "demo node passphrase, not for real use"  # noqa: S105
ACCOUNTS = [
    ("nour", "admin"),
    ("salma", "documenter"),
    ("huda", "reviewer"),
    ("amina", "member"),
]
# Each node of the demo: its folder, name shown in pages, federation role and usual port.
NODES = [
    {"key": "tunis", "name": "Demo node — Tunis", "role": "node", "port": 5000},
    {"key": "sfax", "name": "Demo node — Sfax", "role": "node", "port": 5001},
    {"key": "hub", "name": "Demo regional hub", "role": "hub", "port": 5002},
]
NODE = NODES[0]  # the node the single-node demo was: its login page comes first
# Fictional cases each node documents, and which of them it shares, with whom: (how many
# cases, [audiences of the first shared case, of the second, ...]).
SAMPLES = {
    "tunis": (40, ["hub peers", "hub peers", "hub"]),
    "sfax": (25, ["hub peers"]),
}


def rabita(instance: Path, *args: str, stdin: str | None = None) -> str:
    """Run the real `rabita` command line against a demo instance."""
    command = [sys.executable, "-m", "core.cli", "--instance", str(instance), *args]
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"`rabita {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def set_up(folder: Path, ports: dict[str, int] | None = None) -> dict:
    """Create the demo instances once; return the accounts with their second-factor secrets
    (the same person has the same secret on every demo node, to keep the demo simple)."""
    accounts_file = folder / "accounts.json"
    if accounts_file.exists() and not (folder / "hub").exists():
        raise SystemExit(f"{folder} was made by the single-node demo; remove it "
                         "(make clean, or rm -rf .demo) and run make demo again.")
    if accounts_file.exists():
        for node in NODES:  # made by older code: bring its database up to this code's
            rabita(folder / node["key"], "db", "upgrade")
        return json.loads(accounts_file.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    ports = ports or {node["key"]: node["port"] for node in NODES}
    password_file = folder / "password.txt"
    password_file.write_text(DEMO_PASSWORD + "\n")
    passphrase_file = folder / "node-passphrase.txt"
    passphrase_file.write_text(DEMO_NODE_PASSPHRASE + "\n")
    secrets = {name: pyotp.random_base32() for name, role in ACCOUNTS if role != "member"}
    for node in NODES:
        instance = folder / node["key"]
        rabita(instance, "init", "--node-name", node["name"], "--admin", "nour",
               "--admin-password-file", str(password_file),
               "--passphrase-file", str(passphrase_file), *_plugin_flags())
        # Demo only: unlock unattended, so the demo opens ready to use.
        with (instance / "config.py").open("a") as config:
            config.write(f"PASSPHRASE_FILE = {str(passphrase_file)!r}\n"
                         f"FEDERATION_URL = 'http://127.0.0.1:{ports[node['key']]}'\n"
                         f"FEDERATION_ROLE = {node['role']!r}\n")
        _add_people(instance, secrets)
    accounts = {name: {"role": role, "totp": secrets.get(name)} for name, role in ACCOUNTS}
    accounts_file.write_text(json.dumps(accounts, indent=2))
    return accounts


def _plugin_flags() -> list[str]:
    plugins = sorted(
        f"plugins.{p.name}" for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()
    )
    return [flag for name in [*plugins, "federation"] for flag in ("--plugin", name)]


def _add_people(instance: Path, secrets: dict[str, str]) -> None:
    """Demo only: the other demo accounts, each with a known second factor if she needs one."""
    from core import users
    from core.extensions import db

    app = _app(instance)
    with app.app_context():
        for username, role in ACCOUNTS[1:]:
            users.create(username, DEMO_PASSWORD, role)
        for username, _role in ACCOUNTS:
            user = users.find(username)
            if user.needs_second_factor():
                user.totp_secret = secrets[username]
        db.session.commit()


def _app(instance: Path):
    from core.app import create_app

    return create_app({"INSTANCE_PATH": str(instance)})


# -- federation: pairing, fictional records, sync ------------------------------------------


def share_samples(app, key: str) -> int:
    """Fictional cases written by Salma; for the first few, the defender's consent and
    Huda's approval: shared. Returns how many cases were shared."""
    import random

    from core import consent, review
    from core.extensions import db
    from core.users import find
    from plugins.cases import sample

    count, shared_audiences = SAMPLES.get(key, (0, []))
    with app.test_request_context():
        salma, huda = find("salma"), find("huda")
        rng = random.Random(f"demo-{key}")
        cases = [sample.build(rng, salma) for _ in range(count)]
        for case in cases:
            case.restricted = False  # need-to-know cases are not shared in the demo
        sample.save(cases, salma)
        db.session.commit()
        for case, audiences in zip(cases, shared_audiences, strict=False):
            consent.record(case, user=salma, given_by="defender", method="oral",
                           audiences=audiences.split(), purposes=["advocacy"],
                           obtained_on=date(2026, 1, 15))
            for audience in audiences.split():
                review.approve(case, audience, huda)
    return len(shared_audiences)


def pair_and_sync(apps: dict, urls: dict[str, str]) -> list[str]:
    """Pair each node with the hub (as their administrators would, fingerprints compared),
    then sync: the nodes to the hub, the hub to the nodes. Returns what happened."""
    from federation import identity, inbox, peers, signing, sync

    def fingerprint(key):
        with apps[key].app_context():
            return identity.fingerprint(signing.identity().genesis.public_key)

    def node_id(key):
        return apps[key].config["NODE_ID"]

    for key in ("tunis", "sfax"):
        with apps[key].test_request_context():
            if peers.find(node_id("hub")) is None:
                peers.add(urls["hub"], fingerprint("hub"), "Regional hub", None)
        with apps["hub"].test_request_context():
            peer = peers.find(node_id(key))
            if not peer.approved:
                peers.approve(peer, fingerprint(key), None)
                peer.label = key.capitalize()
                from core.extensions import db

                db.session.commit()
    for key in ("hub", "tunis", "sfax", "hub"):  # the hub's second round takes receipts on
        with apps[key].test_request_context():
            sync.sync()
    report = []
    for key in ("hub", "tunis", "sfax"):
        with apps[key].app_context():
            held = inbox.held_payloads()
            origins = {origin for origin, _ in held}
            names = sorted(other for other in apps if node_id(other) in origins)
            report.append(f"{key} holds {len(held)} shared records (from: "
                          f"{', '.join(names) or 'none'})")
    return report


# -- serving -------------------------------------------------------------------------------


def print_welcome(accounts: dict, urls: dict[str, str], report: list[str] | None = None) -> None:
    print()
    for node in NODES:
        print(f"{node['name']:<22} {urls[node['key']]}/login")
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
    print("Salma (documenter) and Huda (reviewer) see each node's fictional cases, and which "
          "were consented, approved and shared; Nour (admin) sees the pairing and sync on "
          "each node's Partner nodes page.")
    print("Fresh codes any time: make demo-codes. Stop with Ctrl-C.\n")


def serve(folder: Path, check: bool, ports: dict[str, int]) -> None:
    from werkzeug.serving import make_server

    from core import keystore

    apps = {node["key"]: _app(folder / node["key"]) for node in NODES}
    servers = {key: make_server("127.0.0.1", ports[key], app, threaded=True)
               for key, app in apps.items()}
    urls = {key: f"http://127.0.0.1:{server.server_port}" for key, server in servers.items()}
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers.values()]
    for thread in threads:
        thread.start()
    try:
        shared = folder / "shared.json"
        if not shared.exists():
            counts = {key: share_samples(apps[key], key) for key in SAMPLES}
            shared.write_text(json.dumps(counts))
        report = pair_and_sync(apps, urls)
        accounts = json.loads((folder / "accounts.json").read_text())
        if not check:
            print_welcome(accounts, urls, report)
            threading.Event().wait()
            return
        for key, url in urls.items():
            with urllib.request.urlopen(f"{url}/login", timeout=10) as response:  # noqa: S310
                body = response.read().decode()
            if response.status != 200 or 'id="username"' not in body:
                raise SystemExit(f"The demo's {key} did not serve its login page.")
        print(f"The demo node serves its login page at {urls['tunis']}/login.")
        for line in report:
            print(f"Paired and synced: {line}")
    finally:
        for server in servers.values():
            server.shutdown()
        if check:
            for app in apps.values():
                keystore.keystore(app).lock()  # leave no unlocked keyring behind in /dev/shm


def _free_ports() -> dict[str, int]:
    ports = {}
    for node in NODES:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports[node["key"]] = probe.getsockname()[1]
    return ports


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "codes"])
    parser.add_argument("--dir", default=str(ROOT / ".demo"), help="where the demo lives")
    parser.add_argument("--check", action="store_true", help="serve, fetch pages, stop")
    args = parser.parse_args(argv)
    folder = Path(args.dir).resolve()
    ports_file = folder / "ports.json"
    if ports_file.exists():
        ports = json.loads(ports_file.read_text())
    else:
        ports = _free_ports() if args.check else {n["key"]: n["port"] for n in NODES}
    accounts = set_up(folder, ports)
    ports_file.write_text(json.dumps(ports))
    if args.command == "codes":
        print_welcome(accounts, {key: f"http://127.0.0.1:{port}" for key, port in ports.items()})
        return
    os.environ.pop("RABITA_INSTANCE_PATH", None)
    serve(folder, args.check, ports)


if __name__ == "__main__":
    main()
