"""A hub with many members: one sync round over a simulated federation on 127.0.0.1.

    python -m bench.federation_fanin                       # 200 members × 500 records
    python -m bench.federation_fanin --members 50 --records 100 --skip-sync-ratio
    python -m bench.federation_fanin --sync-records 100000 --sync-before 51d0638

The members are simulated (``bench.simulation``): a few processes (``--servers``) serve
many node identities each over real HTTP on 127.0.0.1, every one with its own Ed25519 key,
signed node document and ``hub`` feed of signed, chained record entries made with the
protocol's own code (payloads made up; about ``--payload-bytes`` each). This process is the
hub, a real node (its own instance folder and SQLite file) paired with every member as its
administrator would pair them, syncing exactly as ``rabita sync`` does: the members' turns on
``FEDERATION_SYNC_WORKERS`` threads, one at a time at the database, signatures on the
process's checking pool. It prints:

- **one round that pulls everything**: wall time, records/s, and how many members failed;
- **rounds with nothing new** over every member: wall time (target ≤ 10 s for 200 members);
- with ``--sequential-too``, a round with nothing new one member after another, to compare;
- in the same run, **the v1 sync ratio** of ``bench.sync`` (target ≥ 0.5), unless
  ``--skip-sync-ratio``.

Figures are for comparison on one machine; this is not a test. Only 127.0.0.1 is used; each
part is bounded in time (``--time-limit`` seconds per round).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--records", type=int, default=500, help="new records per member")
    parser.add_argument("--payload-bytes", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=2, help="processes serving members")
    parser.add_argument("--workers", type=int, default=None,
                        help="FEDERATION_SYNC_WORKERS (default: the setting's default)")
    parser.add_argument("--no-change-rounds", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=900, help="seconds per round")
    parser.add_argument("--sequential-too", action="store_true",
                        help="also a round with nothing new, one member after another")
    parser.add_argument("--skip-sync-ratio", action="store_true")
    parser.add_argument("--sync-records", type=int, default=20_000,
                        help="records of bench.sync's pull (its own default: 100,000)")
    parser.add_argument("--sync-before", action="append", default=None, metavar="REV",
                        help="passed to bench.sync as --before (default: bench.sync's)")
    args = parser.parse_args(argv)

    from bench import simulation
    from federation.settings import DEFAULTS
    from federation.testing import Node

    folder = Path(tempfile.mkdtemp(prefix="rabita-fanin-"))
    (folder / "shm").mkdir()
    print(f"Rabita hub fan-in bench — Python {platform.python_version()}, {platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; folder {folder}")
    hub = Node("hub", folder / "hub", f"sqlite:///{folder / 'hub.db'}", "hub", ["federation"],
               folder / "shm")
    workers = args.workers or DEFAULTS["FEDERATION_SYNC_WORKERS"]
    hub.app.config["FEDERATION_SYNC_WORKERS"] = workers
    served = []
    try:
        started = time.perf_counter()
        share = -(-args.members // args.servers)
        starting = [threading.Thread(target=lambda first, count: served.append(simulation.Served(
            hub, first, count, args.records, payload_bytes=args.payload_bytes)),
            args=(first, min(share, args.members - first + 1)))
            for first in range(1, args.members + 1, share)]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        if len(served) != len(starting):
            raise SystemExit("the simulated members did not all start")
        print(f"{args.members} simulated members × {args.records} signed records "
              f"({args.payload_bytes} B payloads) made and served by {len(served)} processes "
              f"in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with hub.context():
            for members in served:
                simulation.enrol(members.members, members.base_url)
        print(f"paired the hub with {args.members} members in "
              f"{time.perf_counter() - started:.1f} s; {workers} sync workers")

        seconds, outcomes = timed_round(hub, args.time_limit)
        pulled = sum(o.pulled for o in outcomes)
        failed = [o for o in outcomes if o.error]
        print()
        print(f"round with new records   {pulled:>8} records from {len(outcomes)} members in "
              f"{seconds:7.2f} s  {pulled / seconds:8.0f} records/s   "
              f"({len(failed)} members failed)")
        if pulled != args.members * args.records:
            print(f"  expected {args.members * args.records} records: "
                  f"{sorted({o.error for o in failed})}")
        for number in range(args.no_change_rounds):
            seconds, outcomes = timed_round(hub, args.time_limit)
            errors = sum(1 for o in outcomes if o.error)
            print(f"round with nothing new {number + 1}: {len(outcomes)} members in "
                  f"{seconds:6.2f} s   (target ≤ 10 s for 200 members; {errors} failed)")
        if args.sequential_too and workers > 1:
            hub.app.config["FEDERATION_SYNC_WORKERS"] = 1
            seconds, outcomes = timed_round(hub, args.time_limit)
            print(f"the same, one member after another (FEDERATION_SYNC_WORKERS = 1): "
                  f"{seconds:6.2f} s")
    finally:
        for members in served:
            members.close()
        hub.close()
    shutil.rmtree(folder, ignore_errors=True)
    if not args.skip_sync_ratio:
        print()
        print(f"v1 sync ratio (bench.sync --records {args.sync_records}), in the same run:")
        ratio = sync_ratio(args.sync_records, args.sync_before)
        print(f"ratio full / bare {ratio}   (target ≥ 0.5)")


def timed_round(hub, limit: float):
    """One ``rabita sync`` round of ``hub`` (in this process); its seconds and outcomes. A
    round longer than ``limit`` seconds ends the bench."""
    from federation import sync

    timer = threading.Timer(limit, too_long, args=(limit,))
    timer.start()
    try:
        with hub.context():
            started = time.perf_counter()
            outcomes = sync.sync()
            return time.perf_counter() - started, outcomes
    finally:
        timer.cancel()


def too_long(limit: float) -> None:
    print(f"a round took more than {limit} s: the bench ends here", flush=True)
    os._exit(2)


def sync_ratio(records: int, before: list[str] | None) -> str:
    """Run ``bench.sync`` (its output shown as it goes) and return the ratio it printed."""
    from bench import sync as sync_bench

    argv = ["--records", str(records)]
    for rev in before or []:
        argv += ["--before", rev]
    copy = io.StringIO()
    with contextlib.redirect_stdout(Tee(sys.stdout, copy)):
        sync_bench.main(argv)
    found = re.search(r"ratio full / bare\s+([0-9.]+)", copy.getvalue())
    return found.group(1) if found else "not found"


class Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


if __name__ == "__main__":
    main()
