"""`make demo`: a Rabita node on 127.0.0.1 with fictional people and data, ready to explore.

    python -m tools.demo            # set up .demo/ (once) and serve until Ctrl-C
    python -m tools.demo --check    # set up, serve, fetch the login page, stop (used by tests)
    python -m tools.demo codes      # the demo accounts' current second-factor codes

Everything here is fictional and for trying Rabita out; never use these accounts for real.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import urllib.request
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
NODE = {"name": "Demo node — Tunis", "port": 5000}


def rabita(instance: Path, *args: str, stdin: str | None = None) -> str:
    """Run the real `rabita` command line against a demo instance."""
    command = [sys.executable, "-m", "core.cli", "--instance", str(instance), *args]
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"`rabita {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def set_up(folder: Path) -> dict:
    """Create the demo instance once; return the accounts with their second-factor secrets."""
    instance = folder / "node"
    accounts_file = folder / "accounts.json"
    if accounts_file.exists():
        return json.loads(accounts_file.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    password_file = folder / "password.txt"
    password_file.write_text(DEMO_PASSWORD + "\n")
    passphrase_file = folder / "node-passphrase.txt"
    passphrase_file.write_text(DEMO_NODE_PASSPHRASE + "\n")
    rabita(instance, "init", "--node-name", NODE["name"], "--admin", "nour",
           "--admin-password-file", str(password_file),
           "--passphrase-file", str(passphrase_file), *_plugin_flags())
    # Demo only: unlock unattended, so the demo opens ready to use.
    with (instance / "config.py").open("a") as config:
        config.write(f"PASSPHRASE_FILE = {str(passphrase_file)!r}\n")
    for username, role in ACCOUNTS[1:]:
        rabita(instance, "users", "create", username, "--role", role,
               "--password-file", str(password_file))
    secrets = _enrol_second_factors(instance)
    accounts = {name: {"role": role, "totp": secrets.get(name)} for name, role in ACCOUNTS}
    accounts_file.write_text(json.dumps(accounts, indent=2))
    return accounts


def _plugin_flags() -> list[str]:
    plugins = sorted(
        p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()
    )
    return [flag for name in plugins for flag in ("--plugin", f"plugins.{name}")]


def _enrol_second_factors(instance: Path) -> dict[str, str]:
    """Demo only: give each account that needs one a known second factor."""
    os.environ["RABITA_INSTANCE_PATH"] = str(instance)
    from core import create_app
    from core.extensions import db
    from core.users import find

    app = create_app()
    secrets = {}
    with app.app_context():
        for username, _role in ACCOUNTS:
            user = find(username)
            if user.needs_second_factor():
                user.totp_secret = secrets[username] = pyotp.random_base32()
        db.session.commit()
    return secrets


def print_welcome(accounts: dict, url: str) -> None:
    print(f"\nRabita demo node: {url}/login")
    print(f"Every demo account's password: {DEMO_PASSWORD}")
    print(f"Node passphrase (unlocks identifying data): {DEMO_NODE_PASSPHRASE}")
    for username, account in accounts.items():
        if account["totp"]:
            code = pyotp.TOTP(account["totp"]).now()
            print(f"  {username:<6} {account['role']:<10} code now: {code}  "
                  f"(secret for an authenticator app: {account['totp']})")
        else:
            print(f"  {username:<6} {account['role']:<10} (no second factor needed)")
    print("Fresh codes any time: make demo-codes. Stop with Ctrl-C.\n")


def serve(folder: Path, port: int, check: bool) -> None:
    os.environ["RABITA_INSTANCE_PATH"] = str(folder / "node")
    from werkzeug.serving import make_server

    from core import create_app

    app = create_app()
    server = make_server("127.0.0.1", port, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    if not check:
        print_welcome(json.loads((folder / "accounts.json").read_text()), url)
        server.serve_forever()
        return
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    from core import keystore

    try:
        with urllib.request.urlopen(f"{url}/login", timeout=10) as response:  # noqa: S310
            body = response.read().decode()
        if response.status != 200 or 'id="username"' not in body:
            raise SystemExit("The demo node did not serve its login page.")
        print(f"The demo node serves its login page at {url}/login.")
    finally:
        server.shutdown()
        keystore.keystore(app).lock()  # leave no unlocked keyring behind in /dev/shm


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "codes"])
    parser.add_argument("--dir", default=str(ROOT / ".demo"), help="where the demo lives")
    parser.add_argument("--port", type=int, default=NODE["port"])
    parser.add_argument("--check", action="store_true", help="serve, fetch a page, stop")
    args = parser.parse_args(argv)
    folder = Path(args.dir).resolve()
    accounts = set_up(folder)
    if args.command == "codes":
        print_welcome(accounts, f"http://127.0.0.1:{args.port}")
        return
    serve(folder, 0 if args.check else args.port, args.check)


if __name__ == "__main__":
    main()
