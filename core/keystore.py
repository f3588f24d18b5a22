"""The key store: the only module that holds the node key and unwraps data keys.

Identifying values are sealed with AES-256-GCM under a data key of their own record; each
data key is wrapped by the node key; the node key (with the blind-index key) sits in a
keyring file wrapped by a key derived from the operator's passphrase with argon2id. The
passphrase and the unwrapped node key are never written to disk: a copied database or
backup reveals nothing identifying.

A node starts **locked**. An admin unlocks it (unlock page, or ``PASSPHRASE_FILE`` for an
unattended server). So that every worker process of one node shares the state, the
unlocked keyring is kept in a RAM-only file (``KEY_SHARE_DIR``, /dev/shm by default), mode
0600; locking removes it, and a reboot forgets it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app

from core.text import fold

KEYRING_FILE = "keys/keyring.json"
KEYRING_AAD = b"rabita keyring v1"
NONCE_BYTES = 12
KEY_BYTES = 32
KID_BYTES = 4
MIN_PASSPHRASE = 16

# RFC 9106's second recommended profile; tests swap in a fast one (`insecure_fast_kdf`).
KDF = {"memory_kib": 65536, "time_cost": 3, "parallelism": 4}


class KeyStoreError(Exception):
    """Base of the key store's errors; each message is a sentence for the operator."""


class NodeLocked(KeyStoreError):
    """Identifying data was asked for while the node is locked."""

    def __init__(self):
        super().__init__(
            "The node is locked: an administrator must unlock it before identifying "
            "data can be read or written."
        )


class WrongPassphrase(KeyStoreError):
    def __init__(self):
        super().__init__("The passphrase is wrong. Nothing was changed.")


class IntegrityError(KeyStoreError):
    """A sealed value failed authentication: it was changed, or moved from elsewhere."""


@dataclass(frozen=True)
class Keyring:
    node_keys: dict[str, bytes]  # key id (hex) → key; old ones stay until rotation ends
    current: str
    index_key: bytes

    def to_json(self) -> bytes:
        return json.dumps({
            "node_keys": {kid: _b64(key) for kid, key in self.node_keys.items()},
            "current": self.current,
            "index_key": _b64(self.index_key),
        }).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Keyring:
        raw = json.loads(data)
        return cls(
            node_keys={kid: _unb64(key) for kid, key in raw["node_keys"].items()},
            current=raw["current"],
            index_key=_unb64(raw["index_key"]),
        )

    @classmethod
    def new(cls) -> Keyring:
        kid = secrets.token_hex(KID_BYTES)
        return cls({kid: AESGCM.generate_key(256)}, kid, secrets.token_bytes(KEY_BYTES))


# -- the keyring file ----------------------------------------------------------------------


def keyring_path(app: Flask | None = None) -> Path:
    return Path((app or current_app).instance_path) / KEYRING_FILE


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyStoreError(
            f"Use a passphrase of at least {MIN_PASSPHRASE} characters: several unrelated "
            "words. Nothing was changed."
        )


def create_keyring(path: Path, passphrase: str) -> Keyring:
    """Write a new keyring wrapped by ``passphrase``; refuse to replace an existing one."""
    check_passphrase(passphrase)
    if path.exists():
        raise KeyStoreError(f"{path} already exists; this node has its keys. Nothing was changed.")
    keyring = Keyring.new()
    _write_keyring(path, keyring, passphrase)
    return keyring


def open_keyring(path: Path, passphrase: str) -> Keyring:
    try:
        envelope = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeyStoreError(
            f"This node has no keyring at {path}. Create one with `rabita keys init`."
        ) from None
    kek = _derive(passphrase, _unb64(envelope["salt"]), envelope["kdf"])
    try:
        plain = AESGCM(kek).decrypt(_unb64(envelope["nonce"]), _unb64(envelope["wrapped"]),
                                    KEYRING_AAD)
    except InvalidTag:
        raise WrongPassphrase() from None
    return Keyring.from_json(plain)


def _write_keyring(path: Path, keyring: Keyring, passphrase: str) -> None:
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(NONCE_BYTES)
    kdf = dict(KDF)
    kek = _derive(passphrase, salt, kdf)
    envelope = {
        "format": "rabita-keyring-1",
        "kdf": {"alg": "argon2id", **kdf},
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "wrapped": _b64(AESGCM(kek).encrypt(nonce, keyring.to_json(), KEYRING_AAD)),
    }
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(envelope, indent=2).encode())


def _derive(passphrase: str, salt: bytes, kdf: dict) -> bytes:
    return hash_secret_raw(
        passphrase.encode(), salt, time_cost=kdf["time_cost"], memory_cost=kdf["memory_kib"],
        parallelism=kdf["parallelism"], hash_len=KEY_BYTES, type=Type.ID,
    )


# -- locked and unlocked -------------------------------------------------------------------


class KeyStore:
    """One node's lock state, shared by its worker processes through a RAM-only file."""

    def __init__(self, app: Flask):
        self.path = keyring_path(app)
        share_dir = app.config.get("KEY_SHARE_DIR")
        digest = hashlib.sha256(str(self.path).encode()).hexdigest()[:16]
        self.shared = Path(share_dir) / f"rabita-{digest}.unlocked" if share_dir else None
        self._keyring: Keyring | None = None
        self._seen: tuple[int, int] | None = None
        self._pinned: Keyring | None = None  # unlocked for this process only (CLI tools)

    def unlock(self, passphrase: str) -> None:
        """Unlock the node for every worker (the web unlock page, unattended start)."""
        self._share(open_keyring(self.path, passphrase))

    def unlock_here(self, passphrase: str) -> None:
        """Unlock for this process only, leaving the serving node as it is (CLI tools)."""
        self._pinned = open_keyring(self.path, passphrase)

    def lock(self) -> None:
        self._keyring, self._seen, self._pinned = None, None, None
        _aead.cache_clear()  # forget the data keys in use too
        if self.shared is not None:
            self.shared.unlink(missing_ok=True)

    @property
    def unlocked(self) -> bool:
        return self._current() is not None

    def keyring(self) -> Keyring:
        keyring = self._current()
        if keyring is None:
            raise NodeLocked()
        return keyring

    def change_passphrase(self, old: str, new: str) -> None:
        check_passphrase(new)
        _write_keyring(self.path, open_keyring(self.path, old), new)

    def begin_rotation(self, passphrase: str) -> Keyring:
        """Add a new current node key, keeping the old ones to unwrap until re-wrapped."""
        keyring = open_keyring(self.path, passphrase)
        kid = secrets.token_hex(KID_BYTES)
        rotated = Keyring({**keyring.node_keys, kid: AESGCM.generate_key(256)}, kid,
                          keyring.index_key)
        _write_keyring(self.path, rotated, passphrase)
        self._replace(rotated)
        return rotated

    def finish_rotation(self, passphrase: str) -> Keyring:
        """Drop the old node keys once every data key is wrapped by the current one."""
        keyring = open_keyring(self.path, passphrase)
        finished = Keyring({keyring.current: keyring.node_keys[keyring.current]},
                           keyring.current, keyring.index_key)
        _write_keyring(self.path, finished, passphrase)
        self._replace(finished)
        return finished

    def _current(self) -> Keyring | None:
        if self._pinned is not None:
            return self._pinned
        if self.shared is None:
            return self._keyring
        seen = _identity(self.shared)
        if seen is None:  # locked by any worker: forget here too
            if self._keyring is not None:
                _aead.cache_clear()
            self._keyring, self._seen = None, None
        elif seen != self._seen:
            self._keyring = Keyring.from_json(self.shared.read_bytes())
            self._seen = seen
        return self._keyring

    def _share(self, keyring: Keyring) -> None:
        self._keyring = keyring
        if self.shared is not None:
            _atomic_write(self.shared, keyring.to_json())
            self._seen = _identity(self.shared)

    def _replace(self, keyring: Keyring) -> None:
        """After a rotation step: whoever held the keyring now holds the new one."""
        if self._pinned is not None:
            self._pinned = keyring
        if (self.shared is not None and self.shared.exists()) or (
            self.shared is None and self._keyring is not None
        ):
            self._share(keyring)


def init_app(app: Flask) -> None:
    store = KeyStore(app)
    app.extensions["rabita.keystore"] = store
    passphrase_file = app.config.get("PASSPHRASE_FILE")
    if passphrase_file and not store.unlocked:
        store.unlock(Path(passphrase_file).read_text().rstrip("\n"))


def keystore(app: Flask | None = None) -> KeyStore:
    return (app or current_app).extensions["rabita.keystore"]


# -- data keys, sealing, the blind index ---------------------------------------------------


def new_data_key(record_type: str, record_id: str) -> tuple[bytes, bytes]:
    """Return a fresh data key and its wrapped form (to store beside the record)."""
    data_key = AESGCM.generate_key(256)
    return data_key, wrap_data_key(data_key, record_type, record_id)


def wrap_data_key(data_key: bytes, record_type: str, record_id: str) -> bytes:
    keyring = keystore().keyring()
    kid = bytes.fromhex(keyring.current)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(keyring.node_keys[keyring.current]).encrypt(
        nonce, data_key, _data_key_aad(record_type, record_id)
    )
    return kid + nonce + sealed


def unwrap_data_key(wrapped: bytes, record_type: str, record_id: str) -> bytes:
    keyring = keystore().keyring()
    kid, nonce, sealed = _split(wrapped, KID_BYTES)
    node_key = keyring.node_keys.get(kid.hex())
    if node_key is None:
        raise IntegrityError("A data key is wrapped by a node key this keyring does not hold.")
    try:
        return AESGCM(node_key).decrypt(nonce, sealed, _data_key_aad(record_type, record_id))
    except InvalidTag:
        raise IntegrityError(
            "A record's data key failed its integrity check: it was changed or moved."
        ) from None


def wrapped_by_current(wrapped: bytes) -> bool:
    return wrapped[:KID_BYTES].hex() == keystore().keyring().current


def seal(data_key: bytes, context: bytes, plaintext: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + _aead(data_key).encrypt(nonce, plaintext, context)


def open_sealed(data_key: bytes, context: bytes, blob: bytes) -> bytes:
    try:
        return _aead(data_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context)
    except InvalidTag:
        raise IntegrityError(
            "An identifying value failed its integrity check: it was changed, or copied from "
            "another record or field."
        ) from None


def blind_index(purpose: str, value: str) -> str:
    """A keyed hash of a folded value, so an exact match is found without decrypting."""
    key = keystore().keyring().index_key
    message = f"{purpose}\x00{' '.join(fold(value).split())}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# -- sealed under the instance secret ------------------------------------------------------


class InstanceSealBroken(KeyStoreError):
    """A value sealed under the instance secret does not open: another SECRET_KEY, or an
    altered value."""

    def __init__(self):
        super().__init__(
            "A stored secret does not open with this node's SECRET_KEY: the key was changed, "
            "or the database was altered."
        )


def seal_for_instance(data: bytes, purpose: str) -> str:
    """``data`` sealed with AES-256-GCM under a key derived from the instance's SECRET_KEY,
    as URL-safe base64 (a 20-byte secret: 64 characters).

    For secrets the node needs while it is locked (a user's second factor), which the node
    key cannot protect: a copy of the database alone does not reveal them, a copy of the
    instance folder with it does. ``purpose`` separates the keys of different uses."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _instance_cipher(current_app.config["SECRET_KEY"], purpose).encrypt(
        nonce, data, purpose.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_for_instance(token: str, purpose: str) -> bytes:
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return _instance_cipher(current_app.config["SECRET_KEY"], purpose).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode())
    except (InvalidTag, ValueError) as error:
        raise InstanceSealBroken from error


@lru_cache(maxsize=8)
def _instance_cipher(secret_key: str, purpose: str) -> AESGCM:
    key = hmac.new(secret_key.encode(), f"rabita instance seal\x00{purpose}".encode(),
                   hashlib.sha256).digest()
    return AESGCM(key)


# -- helpers -------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _aead(key: bytes) -> AESGCM:
    """A cipher per data key, kept for the records in use (building one costs more than
    sealing a short value)."""
    return AESGCM(key)


def _data_key_aad(record_type: str, record_id: str) -> bytes:
    return f"data-key\x00{record_type}\x00{record_id}".encode()


def _split(blob: bytes, kid_bytes: int) -> tuple[bytes, bytes, bytes]:
    return blob[:kid_bytes], blob[kid_bytes:kid_bytes + NONCE_BYTES], blob[kid_bytes + NONCE_BYTES:]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    descriptor = os.open(temporary, flags, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)
