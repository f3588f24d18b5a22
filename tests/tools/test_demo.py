"""`make demo` on a fresh folder: a hub and two nodes, paired and synced, serving their login
pages."""

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
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "serves its login page" in result.stdout
    accounts = json.loads((tmp_path / "demo" / "accounts.json").read_text())
    assert accounts["nour"]["role"] == "admin" and accounts["nour"]["totp"]
    assert accounts["amina"]["totp"] is None
    # The hub holds what both nodes shared with it; each node got, through the hub's relay,
    # what the other shared with partner nodes (a hub-only record stays at the hub).
    assert "Paired and synced: hub holds 4 shared records (from: sfax, tunis)" in result.stdout
    assert "Paired and synced: sfax holds 2 shared records (from: tunis)" in result.stdout
    assert "Paired and synced: tunis holds 1 shared records (from: sfax)" in result.stdout
