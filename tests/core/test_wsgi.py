"""The WSGI entry point a server runs: it builds the node and takes it out of the garbage
collector's view."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc
import core.wsgi
client = core.wsgi.app.test_client()
print(gc.get_freeze_count(), client.get("/login").status_code)
"""


@pytest.mark.slow
def test_the_wsgi_app_serves_and_is_frozen(app, tmp_path):
    env = dict(os.environ, RABITA_INSTANCE_PATH=str(tmp_path / "instance"),
               RABITA_SECRET_KEY=json.dumps(app.config["SECRET_KEY"]),
               RABITA_SQLALCHEMY_DATABASE_URI=json.dumps(app.config["SQLALCHEMY_DATABASE_URI"]),
               RABITA_KEY_SHARE_DIR='""')
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    frozen, status = result.stdout.split()
    assert int(frozen) > 10_000 and status == "200"
