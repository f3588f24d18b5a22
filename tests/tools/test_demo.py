"""`make demo` on a fresh folder: a hub and three nodes (Tunisia with its country plugin, Egypt
with its, one with none), paired and synced, serving their login pages; the hub holds cases,
events and library resources from every node, and every node what the others shared with
partner nodes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_demo_sets_up_pairs_syncs_and_serves_its_login_pages(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tools.demo", "--check", "--dir", str(tmp_path / "demo")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The demo's 4 servers serve their login pages" in result.stdout
    accounts = json.loads((tmp_path / "demo" / "accounts.json").read_text())
    assert accounts["nour"]["role"] == "admin" and accounts["nour"]["totp"]
    assert accounts["amina"]["totp"] is None
    # The hub holds what every node shared with it: cases, events and library resources.
    assert ("Paired and synced: hub holds: "
            "beirut 5 cases.case, 1 events.event, 1 knowledge.resource; "
            "cairo 6 cases.case, 2 events.event, 1 knowledge.resource; "
            "tunis 8 cases.case, 2 events.event, 2 knowledge.resource") in result.stdout
    # Each node got, through the hub's relay, what the others shared with partner nodes (the
    # cases shared with the hub alone stay at the hub).
    assert ("Paired and synced: tunis holds: "
            "beirut 1 cases.case, 1 events.event, 1 knowledge.resource; "
            "cairo 1 cases.case, 2 events.event, 1 knowledge.resource") in result.stdout
    assert ("Paired and synced: beirut holds: "
            "cairo 1 cases.case, 2 events.event, 1 knowledge.resource; "
            "tunis 2 cases.case, 2 events.event, 2 knowledge.resource") in result.stdout
    assert "Traceback" not in result.stderr
