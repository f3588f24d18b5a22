"""What sealed relay costs a member node: sealing records for the hub to relay, a round that
finds nothing to seal, and opening what was sealed to it.

    python -m bench.sealing [--records 10000] [--recipients 1 10 200]

An unlocked node (SQLite, in a temporary folder) with RECORDS records shared with partner
nodes only (2,000-byte payloads, written straight to its peers feed) and a hub peer.
For each recipient count: ``sealing.seal_pending`` seals every record to that many members
(made-up X25519 keys) — records/s and wall time —, then runs again with nothing new (the scan
each sync round makes); then 1,000 sealed payloads are opened with the node's own key.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.signing import unlocked_node


def run(records: int, recipient_counts: list[int]) -> None:
    from nacl.public import PrivateKey

    from core.extensions import db
    from federation import protocol, sealing, signing
    from federation.models import OutboxEntry, Peer
    from federation.testing import insecure_fill

    with tempfile.TemporaryDirectory() as folder:
        app = unlocked_node(Path(folder))
        with app.app_context():
            db.create_all()
            own = signing.create_encryption_key()
            db.session.add(Peer(node_id="h" * 32, state="approved", role="hub", label="hub"))
            db.session.commit()
            insecure_fill(records, feed="peers")
            print(f"{records} records shared with partner nodes, 2,000-byte payloads "
                  "(timings on a shared machine: noisy)")
            for count in recipient_counts:
                keys = {f"{index:032d}".translate(str.maketrans("0123456789", "abcdefghij")):
                        _key(PrivateKey.generate()) for index in range(count - 1)}
                keys[signing.identity().node_id] = (own.key_id, own.public_key)
                sealing.recipient_keys = lambda keys=keys: keys  # bench only
                db.session.query(OutboxEntry).filter(OutboxEntry.feed == "hub").delete()
                db.session.commit()
                started = time.perf_counter()
                made = sealing.seal_pending()
                sealed = time.perf_counter() - started
                started = time.perf_counter()
                again = sealing.seal_pending()
                idle = time.perf_counter() - started
                size = sum(len(row.payload) for row in db.session.query(OutboxEntry).filter(
                    OutboxEntry.feed == "hub").limit(100)) / 100
                print(f"  {count:>4} recipients: sealed {made} in {sealed:.2f} s "
                      f"({made / sealed:,.0f} records/s), sealed text {size:,.0f} bytes; "
                      f"a round with nothing new: {idle:.2f} s ({again} sealed)")
            rows = db.session.query(OutboxEntry).filter(OutboxEntry.feed == "hub",
                                                        OutboxEntry.kind == "sealed").limit(1000)
            pairs = [(protocol.read_entry(r.entry.encode()), r.payload.encode()) for r in rows]
            started = time.perf_counter()
            for entry, text in pairs:
                sealing.open_payload(entry, text, signing.identity().node_id)
            opened = time.perf_counter() - started
            print(f"  opened {len(pairs)} sealed payloads: {len(pairs) / opened:,.0f}/s")


def _key(private) -> tuple[str, bytes]:
    from federation import protocol

    public = bytes(private.public_key)
    return protocol.encryption_key_id(public), public


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--recipients", type=int, nargs="+", default=[1, 10, 200])
    options = parser.parse_args()
    run(options.records, options.recipients)


if __name__ == "__main__":
    main()
