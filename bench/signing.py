"""What it costs that the federation key is wrapped by the node key: each signature asks the
key store (is the node still unlocked? the key opened once per unlock) before it signs.

    python -m bench.signing [--signatures 20000]

Signs the same 500-byte message N times with a bare PyNaCl key (the baseline) and N times
through ``federation.signing.sign`` on an unlocked node whose workers share the unlock through
a share folder, and prints both rates and their ratio (median of 3 runs each).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path

MESSAGE = b"y" * 500


def unlocked_node(folder: Path):
    from core import keystore
    from core.app import create_app
    from federation import signing

    keystore.KDF = {"memory_kib": 8, "time_cost": 1, "parallelism": 1}  # bench only
    (folder / "shm").mkdir()
    app = create_app({
        "TESTING": True, "SECRET_KEY": secrets.token_hex(32), "PLUGINS": ["federation"],
        "INSTANCE_PATH": str(folder / "instance"), "KEY_SHARE_DIR": str(folder / "shm"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'rabita.db'}",
    })
    passphrase = secrets.token_urlsafe(24)
    keystore.create_keyring(keystore.keyring_path(app), passphrase)
    keystore.keystore(app).unlock(passphrase)
    signing.create_identity(app)
    return app


def rate(sign, count: int) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(count):
            sign(MESSAGE)
        runs.append(count / (time.perf_counter() - started))
    return statistics.median(runs)


def main() -> None:
    from nacl.signing import SigningKey

    from federation import signing

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=20000)
    count = parser.parse_args().signatures
    with tempfile.TemporaryDirectory() as folder:
        app = unlocked_node(Path(folder))
        with app.app_context():
            bare = rate(SigningKey.generate().sign, count)
            wrapped = rate(signing.sign, count)
            from core import keystore

            keystore.keystore(app).lock()
    print(f"bare PyNaCl key:         {bare:10,.0f} signatures/s")
    print(f"federation.signing.sign: {wrapped:10,.0f} signatures/s")
    print(f"ratio: {wrapped / bare:.2f}")


if __name__ == "__main__":
    main()
