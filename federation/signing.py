"""The node's Ed25519 keys: the only module that holds or uses a private key.

Each private key (its 32-byte seed) is kept by the key store, wrapped by the node key like
the data keys (``core.keystore.store_secret``, named ``federation.<key id>``): a locked node
signs nothing, and a copy of the instance folder and database without the passphrase cannot
act as the node. ``federation/keys/state.json`` (mode 0600, in a 0700 folder) holds the
public half of every key, which one is current, and the certificates that chain each new key
to the one before it; it stays readable while the node is locked. The node id is derived
from the first (genesis) key, so it survives rotation. Nothing here logs, prints or returns
a private key; callers get signatures and public keys.

Nodes made before the keys were wrapped kept each seed in clear (``<key id>.key``); the first
use of the keys after the node is unlocked wraps them and deletes the clear files.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from flask import Flask, current_app
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox
from nacl.signing import SigningKey

from core import clock, keystore
from federation import protocol
from federation.protocol import key_id_of

KEYS_FOLDER = "federation/keys"
STATE_FILE = "state.json"
EXTENSION_KEY = "federation.signer"
CLEAR_SEED = "*.key"  # how nodes made before the keys were wrapped kept them

_log = logging.getLogger(__name__)
# A worker's threads (gunicorn's gthread worker): one wraps older clear keys, the rest wait.
_WRAPPING = threading.Lock()


class SigningError(Exception):
    """The node's keys are missing or cannot be used; the message says what to do."""


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    public_key: bytes
    valid_from: str  # protocol timestamps (UTC, seconds)
    superseded_at: str | None = None
    revoked_at: str | None = None
    certificate: dict | None = None  # the envelope by which the previous key vouches for it

    def as_json(self) -> dict:
        return {
            "key_id": self.key_id, "public_key": protocol.b64(self.public_key),
            "valid_from": self.valid_from, "superseded_at": self.superseded_at,
            "revoked_at": self.revoked_at, "certificate": self.certificate,
        }


@dataclass(frozen=True)
class EncryptionKey:
    """The public half of one of this node's X25519 keys, to which others seal payloads
    (docs/federation.md, "Sealed relay"); the newest one not revoked is current."""

    key_id: str
    public_key: bytes
    valid_from: str
    revoked_at: str | None = None

    def as_json(self) -> dict:
        return {"key_id": self.key_id, "public_key": protocol.b64(self.public_key),
                "valid_from": self.valid_from, "revoked_at": self.revoked_at}


@dataclass(frozen=True)
class Identity:
    """The public side of this node's keys."""

    node_id: str
    current: str
    keys: tuple[PublicKey, ...]
    encryption: tuple[EncryptionKey, ...] = ()

    def key(self, key_id: str) -> PublicKey:
        return next(k for k in self.keys if k.key_id == key_id)

    @property
    def genesis(self) -> PublicKey:
        return self.keys[0]


def keys_folder(app: Flask | None = None) -> Path:
    return Path((app or current_app).instance_path) / KEYS_FOLDER


def has_identity(app: Flask | None = None) -> bool:
    return (keys_folder(app) / STATE_FILE).exists()


def unlocked(app: Flask | None = None) -> bool:
    """True if this node can sign now: it has its key, and the node is unlocked."""
    return has_identity(app) and keystore.keystore(app).unlocked


def create_identity(app: Flask) -> Identity:
    """Make the node's genesis key (``rabita init`` does it, unlocked); refuse if there is
    one, or if the node is locked (the key is wrapped by the node key)."""
    folder = keys_folder(app)
    if (folder / STATE_FILE).exists():
        raise SigningError(f"{folder} already holds this node's keys. Nothing was changed.")
    if not keystore.keystore(app).unlocked:
        raise SigningError("The node is locked: unlock it with the node passphrase, then "
                           "create its federation key. Nothing was changed.")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    seed = SigningKey.generate()
    public = bytes(seed.verify_key)
    key_id = key_id_of(public)
    keystore.store_secret(_secret_name(key_id), bytes(seed), app)
    key = PublicKey(key_id, public, protocol.at_text(clock.now()))
    _write_state(folder, Identity(key_id, key_id, (key,)))
    app.extensions.pop(EXTENSION_KEY, None)
    return identity(app)


def identity(app: Flask | None = None) -> Identity:
    return _signer(app).identity


def sign(data: bytes, app: Flask | None = None, key_id: str | None = None) -> bytes:
    """Sign ``data`` with the node's current key (or, to announce its successor, with the
    key just replaced: ``key_id``); return the 64-byte signature. Raises
    ``core.keystore.NodeLocked`` while the node is locked."""
    signer = _signer(app)
    if key_id is not None and key_id != signer.identity.current:
        _announcing_its_successor(signer.identity, key_id)
    return _private_key(app, key_id or signer.identity.current).sign(data).signature


def _announcing_its_successor(current: Identity, key_id: str) -> None:
    """A key that is not current signs one thing: the announcement of the key that replaced
    it (the ``key`` entries of a rotation, dated at the switch). Older keys, and revoked ones,
    sign nothing (docs/federation.md, "Keys")."""
    replaced = current.keys[-2] if len(current.keys) > 1 else None
    if replaced is None or replaced.key_id != key_id:
        raise SigningError("A superseded key signs nothing but its successor's announcement.")
    if replaced.revoked_at is not None:
        raise SigningError("A revoked key signs nothing more.")


def rotate(app: Flask | None = None, at: datetime | None = None) -> tuple[PublicKey, PublicKey]:
    """Make a new current key, certified by the old one; return (old, new).

    The old key stays on disk: it signed the entries made before the switch, and it signs
    the certificate (and the ``key`` entries) that announce its successor.
    """
    app = app or current_app
    signer = _signer(app)
    old = signer.identity.key(signer.identity.current)
    old_key = _private_key(app, old.key_id)  # a locked node rotates nothing
    moment = protocol.at_text(at or clock.now())
    seed = SigningKey.generate()
    public = bytes(seed.verify_key)
    key_id = key_id_of(public)
    statement = protocol.canonical({
        "type": protocol.KEY_TYPE, "node_id": signer.identity.node_id, "key_id": key_id,
        "public_key": protocol.b64(public), "valid_from": moment,
    })
    certificate = protocol.envelope(statement, old_key.sign(statement).signature)
    keystore.store_secret(_secret_name(key_id), bytes(seed), app)
    new = PublicKey(key_id, public, moment, certificate=certificate)
    keys = tuple(_replace(k, superseded_at=moment) if k.key_id == old.key_id else k
                 for k in signer.identity.keys) + (new,)
    _write_state(keys_folder(app), Identity(signer.identity.node_id, key_id, keys,
                                            signer.identity.encryption))
    app.extensions.pop(EXTENSION_KEY, None)
    return old, new


def record_revocation(key_id: str, revoked_at: datetime, app: Flask | None = None) -> PublicKey:
    """Mark one of this node's keys revoked from ``revoked_at`` (it may not be current)."""
    app = app or current_app
    current = identity(app)
    if key_id == current.current:
        raise SigningError("The current key cannot be revoked; rotate first.")
    moment = protocol.at_text(revoked_at)
    keys = tuple(_replace(k, revoked_at=moment) if k.key_id == key_id else k
                 for k in current.keys)
    _write_state(keys_folder(app), Identity(current.node_id, current.current, keys,
                                            current.encryption))
    app.extensions.pop(EXTENSION_KEY, None)
    return identity(app).key(key_id)


def open_sealed(data: bytes, app: Flask | None = None) -> bytes:
    """Decrypt a box sealed to this node's current key (offline bundles)."""
    key = _private_key(app, _signer(app).identity.current).to_curve25519_private_key()
    return SealedBox(key).decrypt(data)


# -- encryption keys (sealed relay) -------------------------------------------------------


def create_encryption_key(app: Flask | None = None, at: datetime | None = None
                          ) -> EncryptionKey:
    """Make a new X25519 key for sealed payloads, wrapped by the node key like the signing
    keys (``federation.enc.<key id>``); it becomes current. Raises ``NodeLocked`` while
    locked. Older ones stay (payloads sealed to them may still arrive) unless revoked."""
    app = app or current_app
    current = identity(app)
    made = PrivateKey.generate()
    public = bytes(made.public_key)
    key = EncryptionKey(protocol.encryption_key_id(public), public,
                        protocol.at_text(at or clock.now()))
    keystore.store_secret(_encryption_name(key.key_id), bytes(made), app)
    _write_state(keys_folder(app), replace(current, encryption=current.encryption + (key,)))
    app.extensions.pop(EXTENSION_KEY, None)
    return key


def revoke_encryption_key(key_id: str, revoked_at: datetime, app: Flask | None = None
                          ) -> EncryptionKey:
    """Mark one of this node's encryption keys revoked from ``revoked_at``."""
    app = app or current_app
    current = identity(app)
    moment = protocol.at_text(revoked_at)
    keys = tuple(replace(k, revoked_at=moment) if k.key_id == key_id else k
                 for k in current.encryption)
    _write_state(keys_folder(app), replace(current, encryption=keys))
    app.extensions.pop(EXTENSION_KEY, None)
    return next(k for k in identity(app).encryption if k.key_id == key_id)


def open_content_key(box: bytes, key_id: str, app: Flask | None = None) -> bytes | None:
    """The content key sealed in ``box`` to this node's encryption key ``key_id``; None if
    this node has no such key or the box does not open with it."""
    app = app or current_app
    if all(k.key_id != key_id for k in identity(app).encryption):
        return None
    private = keystore.open_secret(_encryption_name(key_id), PrivateKey, app)
    try:
        return SealedBox(private).decrypt(box)
    except CryptoError:
        return None


def _encryption_name(key_id: str) -> str:
    return f"federation.enc.{key_id}"


# -- the keys on disk ----------------------------------------------------------------------


class _Signer:
    def __init__(self, folder: Path):
        self.folder, self.state_file = folder, str(folder / STATE_FILE)
        self.seen = _file_identity(self.state_file)
        state = json.loads((folder / STATE_FILE).read_text())
        keys = tuple(
            PublicKey(k["key_id"], protocol.unb64(k["public_key"]), k["valid_from"],
                      k.get("superseded_at"), k.get("revoked_at"), k.get("certificate"))
            for k in state["keys"]
        )
        encryption = tuple(
            EncryptionKey(k["key_id"], protocol.unb64(k["public_key"]), k["valid_from"],
                          k.get("revoked_at"))
            for k in state.get("encryption", [])
        )
        self.identity = Identity(state["node_id"], state["current"], keys, encryption)
        self.clear_seeds_checked = False


def _secret_name(key_id: str) -> str:
    return f"federation.{key_id}"


def _private_key(app: Flask | None, key_id: str) -> SigningKey:
    """One of this node's private keys, from the key store (``NodeLocked`` while locked).
    The wrapping binds each seed to its name, hence to its key id, which was derived from the
    key (or checked) when it was stored: a seed of another name does not open."""
    return keystore.open_secret(_secret_name(key_id), SigningKey, app or current_app)


def _wrap_clear_seeds(app: Flask, folder: Path) -> None:
    """A node made before the keys were wrapped: wrap each clear seed by the node key, check
    that it opens, then delete the clear file (once the node is unlocked)."""
    for path in sorted(folder.glob(CLEAR_SEED)):
        seed, key_id = path.read_bytes(), path.stem
        if key_id_of(bytes(SigningKey(seed).verify_key)) != key_id:
            raise SigningError(f"The key file of {key_id} does not match its id. Nothing "
                               "was changed.")
        keystore.store_secret(_secret_name(key_id), seed, app)
        if keystore.open_secret(_secret_name(key_id), bytes, app) != seed:
            raise SigningError(f"The key of {key_id} could not be wrapped. Nothing was changed.")
        path.unlink()
        _log.warning("Wrapped federation key %s by the node key and deleted its clear file.",
                     key_id)


def _signer(app: Flask | None) -> _Signer:
    app = app or current_app
    signer = app.extensions.get(EXTENSION_KEY)
    # Another process (`rabita federation keys rotate`) may have changed the keys since.
    if signer is None or signer.seen != _file_identity(signer.state_file):
        folder = keys_folder(app)
        if not (folder / STATE_FILE).exists():
            raise SigningError(
                "This node has no federation key yet. Create it with `rabita federation init` "
                "(`rabita init` does it for new nodes)."
            )
        signer = app.extensions[EXTENSION_KEY] = _Signer(folder)
    if not signer.clear_seeds_checked and _node_unlocked(app):
        with _WRAPPING:
            if not signer.clear_seeds_checked:
                _wrap_clear_seeds(app, signer.folder)
                signer.clear_seeds_checked = True
    return signer


def _node_unlocked(app: Flask) -> bool:
    try:
        return keystore.keystore(app).unlocked
    except KeyError:  # asked for the node id while the app is being built: no key store yet
        return False


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns


def _write_state(folder: Path, current: Identity) -> None:
    state = {
        "node_id": current.node_id,
        "current": current.current,
        "keys": [key.as_json() for key in current.keys],
    }
    if current.encryption:
        state["encryption"] = [key.as_json() for key in current.encryption]
    temporary = folder / f".{STATE_FILE}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(state, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / STATE_FILE)


def _replace(key: PublicKey, **changes) -> PublicKey:
    return replace(key, **changes)
