"""Federation sync figures: a hub pulls records from a node over HTTP on 127.0.0.1.

    python -m bench.sync                 # 100,000 records (a few minutes)
    python -m bench.sync --records 20000
    python -m bench.sync --before 51d0638 --before none
    python -m bench.sync --paired 3      # only: 3 pairs of full pulls, now and 51d0638 in turn

Prints records per second of a full pull (verify the response, the chain, every origin
signature and payload hash, apply, commit page by page), the same figure for a bare loop that
only verifies each entry's signature and upserts it, on one core (measured in this run, on the
same entries, just before and just after the pull), their ratio (target: at least 0.5), and
how long a sync round with nothing new takes when the hub holds 1,000 and 100,000 records
(target: flat, at most 50 ms). Beside each pull, the CPU time the hub's own process spent on
it (what still compares codes when others load the machine). Figures are for comparison on
one machine; this is not a test.

Also the same full pull with no process pool (``FEDERATION_SIGNATURE_PROCESSES = 0``: every
signature checked in the syncing process), and, before and after in the same run, the same
full pull, from the same node, by a hub running
the code of an earlier commit (``--before REV``, repeatable; by default 51d0638, main before
issue 14, when a checking subprocess of its own, ``federation/verifier.py``, checked the
signatures that a process pool checks now; ``none`` for no such pull). That code is taken
with ``git archive`` into the bench's folder and run in a process of its own; nothing of it
is imported here.

The node runs as its own process (its own instance folder and SQLite file); this process is
the hub, with its own instance folder and SQLite file. Every full pull is served by the node as
it was once filled (its database put back from a copy before each pull): no pull is slowed by
the ledger rows the others left on the node. The node's entries are made with
``insecure_fill`` (signed, chained entries of made-up payloads, skipping consent and review:
the figure is about sync, not about documenting).
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import closing
from io import BytesIO
from pathlib import Path

from nacl.signing import VerifyKey

BEFORE = "51d0638"  # main before issue 14: signatures checked by federation/verifier.py


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=25, help="no-change rounds to time")
    parser.add_argument("--before", action="append", default=None, metavar="REV",
                        help=f"also pull with the code of this commit (default: {BEFORE}; "
                             "'none': no such pull)")
    parser.add_argument("--paired", type=int, default=0, metavar="K",
                        help="only K pairs of full pulls, this code's and each --before code's "
                             "in turn (the order flipping every pair), and their ratios")
    args = parser.parse_args(argv)
    befores = [rev for rev in (args.before or [BEFORE]) if rev != "none"]
    if args.paired:
        paired(args.records, args.paired, befores)
        return

    from federation.testing import insecure_fill_outbox, pair

    folder = _bench_folder("rabita-bench-", "Rabita federation sync bench")
    node = _node(folder, "node", "node")
    small_hub, hub, alone = (_node(folder, name, "hub")
                             for name in ("hub-small", "hub", "hub-alone"))
    alone.app.config["FEDERATION_SIGNATURE_PROCESSES"] = 0  # every check in the syncing process
    try:
        with (node.folder / "config.py").open("a") as config:  # a hub per way of pulling
            config.write(f"FEDERATION_REQUESTS_PER_CLIENT = {3 + len(befores)}\n")
        node.start()
        pair(small_hub, node)
        pair(hub, node)
        pair(alone, node)

        started = time.perf_counter()
        insecure_fill_outbox(node, args.small, feed="hub")
        pull(small_hub, node)
        small_round = no_change_round(small_hub, node, args.rounds)

        insecure_fill_outbox(node, args.records - args.small, feed="hub")
        print(f"made {args.records} signed entries on the node in "
              f"{time.perf_counter() - started:.1f} s")
        as_filled = snapshot(folder / "node.db")

        bare_before = bare_loop(node, folder / "bare-before.db")
        # Every full pull is served by the node as it was filled: each pull adds 100,000 rows
        # to the node's outbound ledger, and a node whose ledger already holds other hubs'
        # grew slower to serve (1.1 s more of its CPU per earlier pull here), which slowed
        # the pulls made after the first on these two shared cores.
        earlier = {}
        for rev in befores:
            put_back(node, as_filled, folder / "node.db")
            earlier[rev] = pull_with_code_of(rev, folder, node)
        put_back(node, as_filled, folder / "node.db")
        alone_seconds, alone_cpu = pull(alone, node, cpu=True)
        put_back(node, as_filled, folder / "node.db")
        seconds, cpu = pull(hub, node, cpu=True)
        full_rate = args.records / seconds
        bare_after = bare_loop(node, folder / "bare-after.db")
        large_round = no_change_round(hub, node, args.rounds)
        # The machine's speed drifts over minutes: the baseline is measured just before and
        # just after the pull, and their mean rate is what the pull is compared with.
        bare_rate = (args.records / bare_before + args.records / bare_after) / 2

        print()
        print(f"full pull over HTTP     {args.records:>8} records in {seconds:7.2f} s  "
              f"{full_rate:8.0f} records/s   hub CPU {per_record(cpu, args.records)}")
        for when, bare_seconds in (("before", bare_before), ("after", bare_after)):
            print(f"bare verify + upsert    {args.records:>8} records in {bare_seconds:7.2f} s  "
                  f"{args.records / bare_seconds:8.0f} records/s   ({when} the pull)")
        print(f"ratio full / bare       {full_rate / bare_rate:.2f}   (target ≥ 0.5; bare: the "
              f"mean of its two rates)")
        alone_rate = args.records / alone_seconds
        print(f"the same, no pool       {args.records:>8} records in {alone_seconds:7.2f} s  "
              f"{alone_rate:8.0f} records/s   ratio {alone_rate / bare_rate:.2f} "
              f"(FEDERATION_SIGNATURE_PROCESSES = 0)   hub CPU "
              f"{per_record(alone_cpu, args.records)}")
        for rev, (before_seconds, before_cpu, error) in earlier.items():
            if error:
                print(f"full pull at {rev}: failed ({error})")
                continue
            before_rate = args.records / before_seconds
            print(f"full pull at {rev:<10} {args.records:>8} records in {before_seconds:7.2f} s  "
                  f"{before_rate:8.0f} records/s   ratio {before_rate / bare_rate:.2f}; "
                  f"now / then {full_rate / before_rate:.2f}   hub CPU "
                  f"{per_record(before_cpu, args.records)}")
        print(f"no-change round at {args.small:>7} records: median {small_round[0]:6.1f} ms, "
              f"p90 {small_round[1]:6.1f} ms")
        print(f"no-change round at {args.records:>7} records: median {large_round[0]:6.1f} ms, "
              f"p90 {large_round[1]:6.1f} ms   (target: flat, ≤ 50 ms)")
    finally:
        for made in (node, small_hub, hub, alone):
            made.close()


def paired(records: int, pairs: int, befores: list[str]) -> None:
    """Full pulls of ``records`` by this code and by each earlier code in turn, ``pairs``
    times, the order flipping every pair; each pull by a hub of its own, from the node as it
    was filled. On a machine whose speed drifts from one minute to the next (seen: the bare
    loop 19 % slower after a pull than before it), pulls one after the other compare the
    moments as much as the codes; taken in turns, each pair meets the same machine."""
    from federation.testing import insecure_fill_outbox, pair

    folder = _bench_folder("rabita-bench-paired-", "Rabita federation sync bench, paired pulls")
    node = _node(folder, "node", "node")
    hubs = [_node(folder, f"hub-{n}", "hub") for n in range(pairs)]
    try:
        with (node.folder / "config.py").open("a") as config:  # a hub per pull
            config.write(f"FEDERATION_REQUESTS_PER_CLIENT = {pairs * (1 + len(befores)) + 2}\n")
        node.start()
        for hub in hubs:
            pair(hub, node)
        insecure_fill_outbox(node, records, feed="hub")
        as_filled = snapshot(folder / "node.db")
        ratios: dict[str, list[float]] = {rev: [] for rev in befores}
        for n, hub in enumerate(hubs):
            codes = ["now", *befores] if n % 2 == 0 else [*befores, "now"]
            rates = {}
            for code in codes:
                put_back(node, as_filled, folder / "node.db")
                if code == "now":
                    seconds, cpu = pull(hub, node, cpu=True)
                else:
                    (folder / f"pair-{n}" / code / "shm").mkdir(parents=True)
                    seconds, cpu, error = pull_with_code_of(code, folder / f"pair-{n}" / code,
                                                            node)
                    if error:
                        raise SystemExit(f"the pull at {code} failed: {error}")
                rates[code] = records / seconds
                print(f"pair {n + 1}: {code:<10} {rates[code]:8.0f} records/s   hub CPU "
                      f"{per_record(cpu, records)}")
            for rev in befores:
                ratios[rev].append(rates["now"] / rates[rev])
        for rev, found in ratios.items():
            print(f"now / {rev}: " + ", ".join(f"{ratio:.2f}" for ratio in found) +
                  f"   (median {statistics.median(found):.2f})")
    finally:
        for made in (node, *hubs):
            made.close()


def _bench_folder(prefix: str, title: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    (folder / "shm").mkdir()
    print(f"{title} — {platform.python_version()}, {platform.machine()}, folder {folder}")
    return folder


def _node(folder: Path, name: str, role: str):
    """A node or hub of the bench: its own instance folder and SQLite file in ``folder``."""
    from federation.testing import Node

    return Node(name, folder / name, f"sqlite:///{folder / f'{name}.db'}", role, ["federation"],
                folder / "shm")


def snapshot(database: Path) -> Path:
    """A copy of a node's SQLite database as it is now (SQLite's backup API: consistent)."""
    copy = database.with_name(database.stem + "-as-filled.db")
    _copy(database, copy)
    return copy


def put_back(node, copy: Path, database: Path) -> None:
    """The node's database made again what ``snapshot`` copied, with the node's server and
    the bench's own connections to it closed meanwhile."""
    from core.extensions import db

    node.stop()
    with node.context():
        db.engine.dispose()
    _copy(copy, database)
    node.start()


def _copy(source_path: Path, target_path: Path) -> None:
    with closing(sqlite3.connect(source_path)) as source, \
            closing(sqlite3.connect(target_path)) as target:
        source.backup(target)


def pull(hub, node, *, cpu: bool = False) -> float | tuple[float, float]:
    """One sync round of ``hub`` with ``node``; returns its wall-clock seconds (and, with
    ``cpu``, the CPU seconds this process spent on it: not the node's, nor the checking
    processes'). On a machine others load, the wall clock is mostly waiting for a core; the
    CPU a pull took still compares codes."""
    from federation import peers, sync

    with hub.context():
        peer = peers.find(node.node_id)
        started, cpu_started = time.perf_counter(), time.process_time()
        outcome = sync.sync_peer(peer)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    if outcome.error:
        raise SystemExit(f"the pull failed: {outcome.error}")
    return (seconds, cpu_seconds) if cpu else seconds


def per_record(cpu_seconds: float, records: int) -> str:
    return f"{cpu_seconds:6.2f} s ({cpu_seconds / records * 1e6:.0f} µs a record)"


def pull_with_code_of(rev: str, folder: Path, node) -> tuple[float, float, str | None]:
    """A hub running the code of commit ``rev`` pairs with ``node`` and pulls everything;
    returns its seconds, its CPU seconds (as ``pull``'s) and the error, if it failed."""
    from core.extensions import db
    from federation import peers

    tree = folder / f"code-{rev}"
    archive = subprocess.run(["git", "archive", rev], cwd=Path(__file__).resolve().parent.parent,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as code:
        code.extractall(tree, filter="data")
    hub = subprocess.Popen(
        [sys.executable, "-c", EARLIER_HUB, str(tree), str(folder), rev, node.url,
         node.fingerprint, node.node_id], cwd=tree, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = hub.stdout.readline()
    if not line:
        return 0.0, 0.0, "its hub did not start: " + hub.communicate()[1].strip()[-300:]
    made = json.loads(line)
    with node.context():
        peers.approve(peers.find(made["node_id"]), made["fingerprint"], None)
        db.session.commit()
    hub.stdin.write("approved\n")
    hub.stdin.flush()
    result = json.loads(hub.stdout.readline())
    hub.wait()
    return result["seconds"], result["cpu"], result["error"]


# Run by a process of its own on the earlier commit's code (first on its path: nothing of
# this tree's is imported there). It makes a hub, asks to pair with the node, and once this
# process has approved it, pulls everything and reports how long it took.
EARLIER_HUB = """
import json, sys, time
from pathlib import Path
tree, folder, rev, url, fingerprint, node_id = sys.argv[1:]
sys.path.insert(0, tree)
import federation
assert Path(federation.__file__).is_relative_to(tree), federation.__file__
from federation import peers, sync
from federation.testing import Node
folder = Path(folder)
hub = Node("hub-" + rev, folder / ("hub-" + rev), f"sqlite:///{folder}/hub-{rev}.db", "hub",
           ["federation"], folder / "shm")
with hub.context():
    peers.add(url, fingerprint, "node", None)
print(json.dumps({"node_id": hub.node_id, "fingerprint": hub.fingerprint}), flush=True)
sys.stdin.readline()
with hub.context():
    started, cpu = time.perf_counter(), time.process_time()
    outcome = sync.sync_peer(peers.find(node_id))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu": cpu, "error": outcome.error}), flush=True)
hub.close()
"""


def no_change_round(hub, node, rounds: int) -> tuple[float, float]:
    """Median and 90th percentile, in ms, of sync rounds that find nothing new."""
    times = sorted(pull(hub, node) * 1000 for _ in range(rounds))
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def bare_loop(node, path: Path) -> float:
    """Verify each entry's signature and upsert it, in batches: the least a pull must do."""
    from sqlalchemy import select

    from core.extensions import db
    from federation import protocol, signing
    from federation.models import OutboxEntry

    with node.context():
        key = VerifyKey(signing.identity().genesis.public_key)
        rows = db.session.execute(
            select(OutboxEntry.seq, OutboxEntry.entry, OutboxEntry.sig, OutboxEntry.payload,
                   OutboxEntry.record_id).where(OutboxEntry.feed == "hub")
            .order_by(OutboxEntry.seq)).all()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("CREATE TABLE held (record_id TEXT PRIMARY KEY, seq INTEGER, "
                       "entry TEXT, payload TEXT)")
    started = time.perf_counter()
    batch = []
    for seq, entry, sig, payload, record_id in rows:
        data = entry.encode()
        key.verify(data, protocol.unb64(sig))
        batch.append((record_id, seq, entry, payload))
        if len(batch) == 500:
            _upsert(connection, batch)
            batch = []
    _upsert(connection, batch)
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def _upsert(connection, batch) -> None:
    connection.executemany(
        "INSERT INTO held (record_id, seq, entry, payload) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (record_id) DO UPDATE SET seq = excluded.seq, entry = excluded.entry, "
        "payload = excluded.payload", batch)
    connection.commit()


if __name__ == "__main__":
    main()
