"""`make demo` on a fresh folder: a hub and three nodes (Tunisia with its country plugin, Egypt
with its, one with none), paired and synced, serving their login pages; the hub holds cases,
events and library resources from every node, and every node what the others shared with
partner nodes. Then the same folder again: reused as it is, syncing by itself every few
seconds, stopped cleanly by SIGTERM or SIGINT."""

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import flask_migrate
import pytest

from core import keystore, migrating, review, users
from core.app import create_app
from plugins.events import sample as event_samples
from tools.demo import KEYS, Demo, end_leftovers, put_away, upgrade

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def demo_command(folder: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tools.demo", "--dir", str(folder), *args]


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """A demo set up on a fresh folder by `python -m tools.demo --check`: (folder, result)."""
    folder = tmp_path_factory.mktemp("demo") / "demo"
    result = subprocess.run(demo_command(folder, "--check"), cwd=ROOT, capture_output=True,
                            text=True, timeout=900, check=False)
    return folder, result


def test_the_demo_sets_up_pairs_syncs_and_serves_its_four_login_pages(checked):
    folder, result = checked
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "The demo's 4 servers serve their login pages" in result.stdout
    accounts = json.loads((folder / "accounts.json").read_text())
    assert accounts["nour"]["role"] == "admin" and accounts["nour"]["totp"]
    assert accounts["amina"]["totp"] is None
    assert "plugins.country_tn" in (folder / "tunis" / "config.py").read_text()
    assert "plugins.country_eg" in (folder / "cairo" / "config.py").read_text()
    assert "plugins.country_" not in (folder / "beirut" / "config.py").read_text()
    # The hub holds what every node shared with it: cases, events and library resources.
    assert ("Paired and synced: hub holds: "
            "from beirut 5 cases, 1 event, 1 library resource; "
            "from cairo 6 cases, 2 events, 1 library resource; "
            "from tunis 8 cases, 2 events, 2 library resources") in result.stdout
    # Each node got, through the hub's relay, what the others shared with partner nodes (the
    # cases shared with the hub alone stay at the hub).
    assert ("Paired and synced: tunis holds: "
            "from beirut 1 case, 1 event, 1 library resource; "
            "from cairo 1 case, 2 events, 1 library resource") in result.stdout
    assert ("Paired and synced: beirut holds: "
            "from cairo 1 case, 2 events, 1 library resource; "
            "from tunis 2 cases, 2 events, 2 library resources") in result.stdout
    # Shared cases are consented for statistics; the public ones fall in one cell, shown.
    assert "The hub counts, in public, cases of TN 6, EG 5 in smear-campaign" in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_make_demo_reuses_its_folder_and_stops_cleanly_on_a_signal(checked, signum):
    folder, _result = checked
    shared_before = (folder / "shared.json").read_text()
    ports = json.loads((folder / "ports.json").read_text())
    demo, lines = start_demo(folder)
    try:
        # The same ports, the same records (none written twice), all four serving.
        assert f"http://127.0.0.1:{ports['hub']}/login" in "".join(lines)
        for port in ports.values():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
                assert page.status == 200
        demo.send_signal(signum)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        end_leftovers(folder)  # what it left running, if it could not stop
    assert demo.returncode == 0, out + err
    assert "Traceback" not in err
    assert "Stopping the demo's servers" in out
    assert (folder / "shared.json").read_text() == shared_before
    for port in ports.values():  # nothing left serving
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)


def files_open_here(folder: Path) -> list[str]:
    """The files under ``folder`` this process holds open (a database connection holds three:
    the database, its WAL and its shared memory)."""
    folder, found = folder.resolve(), []
    for descriptor in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = descriptor.readlink()
            if target.is_relative_to(folder):
                found.append(str(target))
    return sorted(found)


def start_demo(folder: Path) -> tuple[subprocess.Popen, list[str]]:
    """`python -m tools.demo` on ``folder``, once it says it is ready: (process, its lines)."""
    demo = subprocess.Popen(demo_command(folder), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    for line in demo.stdout:  # until it says it is ready
        lines.append(line)
        if line.strip() == "Ready.":
            break
    if "Ready.\n" not in lines:
        demo.kill()
        pytest.fail("".join(lines) + demo.stderr.read())
    return demo, lines


def test_a_demo_killed_outright_leaves_nothing_running_once_started_again(checked):
    """Killed (SIGKILL), the demo cannot stop its servers; the next start ends them first,
    by the ids it noted, and serves on the same ports."""
    folder, _result = checked
    ports = json.loads((folder / "ports.json").read_text())
    demo, _lines = start_demo(folder)
    demo.kill()
    demo.communicate()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['hub']}/login",
                                    timeout=10) as page:
            assert page.status == 200  # its server outlived it
        with Demo(folder) as again:
            assert again.sync_round() == []
    finally:
        end_leftovers(folder)
    assert files_open_here(folder) == []  # put away: a copy of the folder cannot break a lock
    assert not (folder / "processes.txt").exists()
    for port in ports.values():
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)


def test_a_folder_set_up_by_older_code_is_brought_up_to_date(checked, tmp_path):
    """Started again, the demo runs `rabita db upgrade` on the databases behind its code, and
    only on those (a copy of the demo, one node's database one migration behind)."""
    folder, _result = checked
    copy = tmp_path / "demo"
    shutil.copytree(folder, copy)
    apps = {key: create_app({"INSTANCE_PATH": str(copy / key)}) for key in KEYS}
    try:
        with apps["cairo"].app_context():
            flask_migrate.downgrade(
                revision=migrating.branch_revisions(apps["cairo"], "cases")[1])
        assert [key for key, app in apps.items() if not migrating.up_to_date(app)] == ["cairo"]
        upgrade(copy, apps)
        assert all(migrating.up_to_date(app) for app in apps.values())
    finally:
        put_away(apps)  # unlocked by their passphrase file: leave no key share, no connection


def test_the_demo_syncs_by_itself_every_few_seconds(checked):
    """Through the API a test uses: a coalition event Salma writes on the Cairo node, once Huda
    approves it, reaches the hub and the other nodes with no sync asked for (each node runs
    `rabita sync --every`); stopped, no server answers and every node is locked."""
    folder, _result = checked
    with Demo(folder, sync_every=1) as demo:
        before = demo.holdings("hub")["cairo"]["events.event"]
        with demo.apps["cairo"].test_request_context():
            salma, huda = users.find("salma"), users.find("huda")
            event = event_samples.create(salma, ["coalition"], seed="the test",
                                         timezone="Africa/Cairo")[0]
            for audience in ("hub", "peers"):
                review.approve(event, audience, huda)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(demo.holdings(key).get("cairo", {}).get("events.event") == before + 1
                   for key in ("hub", "tunis", "beirut")):
                break
            time.sleep(0.5)
        assert demo.holdings("hub")["cairo"]["events.event"] == before + 1
        assert demo.holdings("tunis")["cairo"]["events.event"] == before + 1
        assert demo.holdings("beirut")["cairo"]["events.event"] == before + 1
        assert demo.sync_round() == []
        apps, ports = demo.apps, demo.ports
    for app in apps.values():  # stopped: every node locked again
        assert not keystore.keystore(app).unlocked
    assert files_open_here(folder) == []  # and no database connection left in this process
    for port in ports.values():
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
