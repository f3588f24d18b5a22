"""`make demo` on a fresh folder: it sets up a node and serves the login page."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_sets_up_and_serves_its_login_page(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tools.demo", "--check", "--dir", str(tmp_path / "demo")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "serves its login page" in result.stdout
    accounts = json.loads((tmp_path / "demo" / "accounts.json").read_text())
    assert accounts["nour"]["role"] == "admin" and accounts["nour"]["totp"]
    assert accounts["amina"]["totp"] is None
