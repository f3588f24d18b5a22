"""bench/load.py for a few seconds on a node of 30 cases, so that the script keeps working: it
makes and serves the node, signs its three people in, sends their pages through wrk, pulls the
partner feed with signed requests, samples the soak's memory — and every request it sends is
answered 2xx. Figures are not checked: benchmarks are not tests."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.testing import missing

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^  (\S.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d,]+)\s+(.+)$",
                 re.MULTILINE)


def run_briefly(state: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", "--cases", "30", "--entries", "60", "--limit", "20",
         "--pages", "3", "--state", str(state), "--duration", "2", "--class-seconds", "1",
         "--federation-seconds", "2", "--soak", "4", "--sample-every", "1",
         "--connections", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_every_phase_runs_and_every_request_is_answered(tmp_path):
    if shutil.which("wrk") is None:
        missing("wrk is not installed (apt-get install wrk)")
    output = run_briefly(tmp_path)
    rows = {label: (int(count.replace(",", "")), refused)
            for label, *_figures, count, refused in ROW.findall(output)}
    expected = {"list", "case", "search", "account", "shared", "page mix",
                "page mix meanwhile", "alone: feed pages pulled (signed)",
                "alone: node document", "under the mix: feed pages pulled (signed)",
                "under the mix: node document", "feed pages pulled (signed)"}
    assert expected <= set(rows), output
    assert all(count > 0 for count, _refused in rows.values()), output
    assert all(refused.strip() == "0" for _count, refused in rows.values()), output
    assert re.search(r"resident memory, master and workers: .* growth [+-]\d", output), output
    assert (tmp_path / "load-sqlite-30" / "ready").exists()
