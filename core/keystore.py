"""The key store: the only module that holds the node key and unwraps data keys.

Identifying values are sealed with AES-256-GCM under a data key of their own record; each
data key is wrapped by the node key; the node key (with the blind-index key) sits in a
keyring file wrapped by a key derived from the operator's passphrase with argon2id. The
passphrase and the unwrapped node key are never written to disk: a copied database or
backup reveals nothing identifying.

A node starts **locked**. An admin unlocks it (unlock page, or ``PASSPHRASE_FILE`` for an
unattended server). So that every worker process of one node shares the state, the key that
opens the keyring file is kept in a RAM-only file (``KEY_SHARE_DIR``, /dev/shm by default)
inside a folder only the service user can reach (``KeyShare``); a worker believes it only if
it opens this node's own keyring file. Locking removes it, and a reboot forgets it.

Other secrets the node must keep at rest (its federation signing keys) are wrapped by the
node key too (``store_secret`` / ``open_secret``), so a locked node cannot use them and a
copied instance folder does not reveal them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app

from core.config import StartupError
from core.text import fold

KEYRING_FILE = "keys/keyring.json"
KEYRING_AAD = b"rabita keyring v1"
SECRETS_FOLDER = "secrets"  # beside the keyring file: named secrets wrapped by the node key
SECRET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,99}")
SECRET_AAD = b"rabita secret v1\x00"
SHARE_FORMAT = "rabita-share-1"
MAX_SHARE_BYTES = 4096
NONCE_BYTES = 12
KEY_BYTES = 32
KID_BYTES = 4
MIN_PASSPHRASE = 16

# RFC 9106's second recommended profile; tests swap in a fast one (`insecure_fast_kdf`).
KDF = {"memory_kib": 65536, "time_cost": 3, "parallelism": 4}

_log = logging.getLogger(__name__)
Built = TypeVar("Built")


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


class ShareRefused(KeyStoreError):
    """The folder or file through which workers share the unlocked node is not the service
    user's alone, or what it holds does not open this node's keyring: it is not believed."""

    def __init__(self, where: Path, reason: str):
        super().__init__(
            f"The key share {where} was refused: {reason}. The node stays locked. Remove it, "
            "or set KEY_SHARE_DIR to a folder only the service user can reach, then unlock."
        )


class SecretMissing(KeyStoreError):
    def __init__(self, name: str):
        super().__init__(f"The key store holds no secret named {name!r}.")


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
    return _unlock_file(path, passphrase)[0]


def _unlock_file(path: Path, passphrase: str) -> tuple[Keyring, bytes]:
    """The keyring, and the key derived from the passphrase that opened it (what workers
    share: it opens this keyring file and no other)."""
    envelope = _read_envelope(path)
    kek = _derive(passphrase, _unb64(envelope["salt"]), envelope["kdf"])
    try:
        return _open_envelope(envelope, kek), kek
    except InvalidTag:
        raise WrongPassphrase() from None


def _read_envelope(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise KeyStoreError(
            f"This node has no keyring at {path}. Create one with `rabita keys init`."
        ) from None


def _open_envelope(envelope: dict, kek: bytes) -> Keyring:
    """Raises ``InvalidTag`` unless ``kek`` is the key this keyring file was wrapped with."""
    plain = AESGCM(kek).decrypt(_unb64(envelope["nonce"]), _unb64(envelope["wrapped"]),
                                KEYRING_AAD)
    return Keyring.from_json(plain)


def _write_keyring(path: Path, keyring: Keyring, passphrase: str) -> bytes:
    """Write ``keyring`` wrapped by ``passphrase`` (a new salt); return the wrapping key."""
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
    return kek


def passphrase_key(passphrase: str, salt: bytes, kdf: dict | None = None) -> bytes:
    """A 32-byte key made of a passphrase by argon2id (``kdf``: ``time_cost``,
    ``memory_kib``, ``parallelism``; by default the keyring's), for a file sealed apart from
    the keyring (``core.backup``'s archives)."""
    return _derive(passphrase, salt, kdf or dict(KDF))


def _derive(passphrase: str, salt: bytes, kdf: dict) -> bytes:
    return hash_secret_raw(
        passphrase.encode(), salt, time_cost=kdf["time_cost"], memory_cost=kdf["memory_kib"],
        parallelism=kdf["parallelism"], hash_len=KEY_BYTES, type=Type.ID,
    )


# -- the share between workers ------------------------------------------------------------


class KeyShare:
    """How one node's worker processes learn that it is unlocked: a file in a folder only the
    service user can reach (``KEY_SHARE_DIR``/rabita-<uid>, mode 0700, made if missing),
    opened without following links, owner and mode checked. It holds the key that opens this
    node's keyring file, so it is believed only if it opens that file (AES-GCM's tag): a
    planted, altered or other node's share opens nothing and leaves the node locked."""

    def __init__(self, parent: Path, keyring_file: Path):
        self.folder = parent / f"rabita-{os.geteuid()}"
        digest = hashlib.sha256(str(keyring_file).encode()).hexdigest()[:16]
        self.name = f"{digest}.unlocked"
        self.path = self.folder / self.name
        self._folder_text, self._path_text = str(self.folder), str(self.path)
        # Where versions before the share folder kept the keyring itself, in clear.
        self.former = parent / f"rabita-{digest}.unlocked"

    def seen(self) -> tuple | None:
        """What stands at the share's place now, folder and file (two ``lstat``): any change,
        of contents, owner or mode, means it is read and checked again."""
        try:  # (each worker asks before each use of a key: plain strings, no path objects)
            return _identity(os.lstat(self._folder_text)) + _identity(os.lstat(self._path_text))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read(self) -> bytes | None:
        """The share's contents, if its folder and file are the service user's alone."""
        with self._folder(create=False) as folder:
            if folder is None:
                return None
            try:
                descriptor = os.open(self.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                                     | os.O_CLOEXEC, dir_fd=folder)
            except FileNotFoundError:
                return None
            except OSError:  # ELOOP: a symbolic link in its place
                raise ShareRefused(self.path, "it is a link, or cannot be opened") from None
            with os.fdopen(descriptor, "rb") as handle:
                _check_private(os.fstat(handle.fileno()), stat.S_ISREG, self.path)
                return handle.read(MAX_SHARE_BYTES + 1)

    def write(self, data: bytes) -> None:
        with self._folder(create=True) as folder:
            temporary = f".{self.name}.{secrets.token_hex(4)}"
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                                 | os.O_CLOEXEC, stat.S_IRUSR | stat.S_IWUSR, dir_fd=folder)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.name, src_dir_fd=folder, dst_dir_fd=folder)
        self._remove_former()

    def remove(self) -> None:
        self._remove_former()
        with self._folder(create=False) as folder:
            if folder is not None:
                with suppress(FileNotFoundError):
                    os.unlink(self.name, dir_fd=folder)

    def _remove_former(self) -> None:
        """Delete a keyring an older version left in clear beside the folder (never read)."""
        with suppress(OSError):
            info = os.lstat(self.former)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid():
                os.unlink(self.former)

    @contextmanager
    def _folder(self, create: bool) -> Iterator[int | None]:
        """The share folder, opened (not through a link) and checked: every name inside is
        then reached through this descriptor, so nothing can be swapped in between."""
        if create:
            try:
                os.mkdir(self.folder, 0o700)
            except FileExistsError:
                pass
            except OSError:
                raise ShareRefused(self.folder, "it cannot be made (does KEY_SHARE_DIR "
                                                "exist?)") from None
        try:
            descriptor = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                                 | os.O_CLOEXEC)
        except FileNotFoundError:
            descriptor = None
        except OSError:  # ELOOP or ENOTDIR: a link, or a file, in its place
            raise ShareRefused(self.folder, "it is a link or not a folder") from None
        if descriptor is None:
            yield None
            return
        try:
            _check_private(os.fstat(descriptor), stat.S_ISDIR, self.folder)
            yield descriptor
        finally:
            os.close(descriptor)


def _check_private(info: os.stat_result, is_kind: Callable[[int], bool], where: Path) -> None:
    if not is_kind(info.st_mode):
        raise ShareRefused(where, "it is not what it should be (a folder, or a plain file)")
    if info.st_uid != os.geteuid():
        raise ShareRefused(where, "it belongs to another user")
    if info.st_mode & 0o077:
        raise ShareRefused(where, f"others may reach it (mode {stat.S_IMODE(info.st_mode):o})")


def _share_bytes(kek: bytes) -> bytes:
    return json.dumps({"format": SHARE_FORMAT, "kek": _b64(kek)}).encode()


def _kek_of_share(data: bytes) -> bytes:
    share = json.loads(data)
    if not isinstance(share, dict) or share.get("format") != SHARE_FORMAT:
        raise ValueError("not a key share")
    kek = base64.b64decode(share["kek"], validate=True)
    if len(kek) != KEY_BYTES:
        raise ValueError("not a key share")
    return kek


# -- locked and unlocked -------------------------------------------------------------------


class KeyStore:
    """One node's lock state, shared by its worker processes through a ``KeyShare``."""

    def __init__(self, app: Flask):
        self.path = keyring_path(app)
        self.secrets_folder = self.path.parent / SECRETS_FOLDER
        share_dir = app.config.get("KEY_SHARE_DIR")
        self.share = KeyShare(Path(share_dir), self.path) if share_dir else None
        self._keyring: Keyring | None = None
        self._seen: tuple | None = None
        self._pinned: Keyring | None = None  # unlocked for this process only (CLI tools)
        self._opened: dict[tuple[str, Callable], object] = {}  # named secrets in use
        # A worker's threads (gunicorn's gthread worker) share this state: one at a time.
        self._lock = threading.RLock()

    def unlock(self, passphrase: str) -> None:
        """Unlock the node for every worker (the web unlock page, unattended start)."""
        self._share(*_unlock_file(self.path, passphrase))

    def unlock_here(self, passphrase: str) -> None:
        """Unlock for this process only, leaving the serving node as it is (CLI tools)."""
        keyring = open_keyring(self.path, passphrase)
        with self._lock:
            self._pinned = keyring
            self._opened.clear()

    def lock(self) -> None:
        with self._lock:  # the share too: no thread here believes it again meanwhile
            self._forget()
            self._seen, self._pinned = None, None
            if self.share is not None:
                try:
                    self.share.remove()
                except ShareRefused as refused:
                    _log.warning("Locking: %s", refused)

    @property
    def unlocked(self) -> bool:
        return self._current() is not None

    def keyring(self) -> Keyring:
        keyring = self._current()
        if keyring is None:
            raise NodeLocked()
        return keyring

    def opened(self, name: str, build: Callable[[bytes], Built]) -> Built:
        """The named secret, unwrapped and passed through ``build``; kept while the node
        stays unlocked with this keyring, forgotten when it locks."""
        with self._lock:
            keyring = self.keyring()
            if (name, build) not in self._opened:
                blob = _read_secret(self.secrets_folder, name)
                self._opened[(name, build)] = build(_unwrap_secret(keyring, name, blob))
            return self._opened[(name, build)]  # type: ignore[return-value]

    def change_passphrase(self, old: str, new: str) -> None:
        check_passphrase(new)
        keyring = open_keyring(self.path, old)
        self._replace(keyring, _write_keyring(self.path, keyring, new))

    def begin_rotation(self, passphrase: str) -> Keyring:
        """Add a new current node key, keeping the old ones to unwrap until re-wrapped."""
        keyring = open_keyring(self.path, passphrase)
        kid = secrets.token_hex(KID_BYTES)
        rotated = Keyring({**keyring.node_keys, kid: AESGCM.generate_key(256)}, kid,
                          keyring.index_key)
        self._replace(rotated, _write_keyring(self.path, rotated, passphrase))
        return rotated

    def finish_rotation(self, passphrase: str) -> Keyring:
        """Re-wrap the named secrets with the current node key, then drop the old node keys
        (every data key is wrapped by the current one by now: ``records.rewrap_all``)."""
        keyring = open_keyring(self.path, passphrase)
        _rewrap_secrets(self.secrets_folder, keyring)
        finished = Keyring({keyring.current: keyring.node_keys[keyring.current]},
                           keyring.current, keyring.index_key)
        self._replace(finished, _write_keyring(self.path, finished, passphrase))
        return finished

    def _current(self) -> Keyring | None:
        with self._lock:
            return self._read_current()

    def _read_current(self) -> Keyring | None:
        if self._pinned is not None:
            return self._pinned
        if self.share is None:
            return self._keyring
        seen = self.share.seen()
        if seen is None:  # locked by any worker: forget here too
            if self._keyring is not None:
                self._forget()
            self._seen = None
        elif seen != self._seen:
            self._forget()
            self._keyring, self._seen = self._believe_share(), seen
        return self._keyring

    def _believe_share(self) -> Keyring | None:
        """The keyring the share opens, or None (and a warning, without values)."""
        try:
            data = self.share.read()
            if data is None:
                return None
            return _open_envelope(_read_envelope(self.path), _kek_of_share(data))
        except ShareRefused as refused:
            _log.warning("%s", refused)
        except (InvalidTag, ValueError, KeyError, TypeError, KeyStoreError):
            _log.warning("%s", ShareRefused(self.share.path, "it does not open this node's "
                                            "keyring (planted, altered, or another node's)"))
        return None

    def _share(self, keyring: Keyring, kek: bytes) -> None:
        with self._lock:
            if self.share is not None:
                self.share.write(_share_bytes(kek))  # first: a refused share unlocks nothing
            self._forget()
            self._keyring = keyring
            if self.share is not None:
                self._seen = self.share.seen()

    def _replace(self, keyring: Keyring, kek: bytes) -> None:
        """After the keyring file changed: whoever held the keyring now holds the new one."""
        with self._lock:
            if self._pinned is not None:
                self._pinned = keyring
                self._opened.clear()
            if (self.share is not None and self.share.seen() is not None) or (
                self.share is None and self._keyring is not None
            ):
                self._share(keyring, kek)

    def _forget(self) -> None:
        self._keyring = None
        self._opened.clear()
        _aead.cache_clear()  # forget the data keys in use too


def init_app(app: Flask) -> None:
    store = KeyStore(app)
    app.extensions["rabita.keystore"] = store
    passphrase_file = app.config.get("PASSPHRASE_FILE")
    if passphrase_file and not store.unlocked:
        try:
            store.unlock(Path(passphrase_file).read_text().rstrip("\n"))
        except ShareRefused as refused:
            raise StartupError(str(refused)) from None


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


# -- named secrets, wrapped by the node key ------------------------------------------------


def store_secret(name: str, secret: bytes, app: Flask | None = None) -> None:
    """Keep ``secret`` (a private key the node needs, such as its federation signing key) in
    the instance folder, wrapped by the current node key and bound to ``name``: a locked
    node cannot use it, and a copied instance folder without the passphrase does not
    reveal it. Key rotation re-wraps it. Needs the node unlocked."""
    store = keystore(app)
    _write_secret(store.secrets_folder, name, _wrap_secret(store.keyring(), name, secret))


def open_secret(name: str, build: Callable[[bytes], Built] = bytes,
                app: Flask | None = None) -> Built:
    """The secret kept under ``name``, as ``build`` makes it (``build(secret)``, made once
    per unlock). Raises ``NodeLocked``, ``SecretMissing`` or ``IntegrityError``."""
    return keystore(app).opened(name, build)


def has_secret(name: str, app: Flask | None = None) -> bool:
    return _secret_path(keystore(app).secrets_folder, name).exists()


def _wrap_secret(keyring: Keyring, name: str, secret: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(keyring.node_keys[keyring.current]).encrypt(nonce, secret,
                                                                 SECRET_AAD + name.encode())
    return bytes.fromhex(keyring.current) + nonce + sealed


def _unwrap_secret(keyring: Keyring, name: str, blob: bytes) -> bytes:
    kid, nonce, sealed = _split(blob, KID_BYTES)
    node_key = keyring.node_keys.get(kid.hex())
    if node_key is None:
        raise IntegrityError(f"The secret {name!r} is wrapped by a node key this keyring "
                             "does not hold.")
    try:
        return AESGCM(node_key).decrypt(nonce, sealed, SECRET_AAD + name.encode())
    except InvalidTag:
        raise IntegrityError(f"The secret {name!r} failed its integrity check: it was "
                             "changed, or copied from another name.") from None


def _secret_path(folder: Path, name: str) -> Path:
    if not SECRET_NAME.fullmatch(name):
        raise KeyStoreError(f"{name!r} is not a secret's name (a-z, 0-9, '.' and '-').")
    return folder / f"{name}.sealed"


def _read_secret(folder: Path, name: str) -> bytes:
    try:
        return _secret_path(folder, name).read_bytes()
    except FileNotFoundError:
        raise SecretMissing(name) from None


def _write_secret(folder: Path, name: str, blob: bytes) -> None:
    path = _secret_path(folder, name)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _atomic_write(path, blob)


def _rewrap_secrets(folder: Path, keyring: Keyring) -> int:
    """Wrap every named secret with the current node key (before the old ones are dropped)."""
    count = 0
    for path in sorted(folder.glob("*.sealed")) if folder.is_dir() else []:
        name, blob = path.name.removesuffix(".sealed"), path.read_bytes()
        if blob[:KID_BYTES].hex() != keyring.current:
            _write_secret(folder, name, _wrap_secret(keyring, name,
                                                     _unwrap_secret(keyring, name, blob)))
            count += 1
    return count


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


def _identity(info: os.stat_result) -> tuple[int, ...]:
    return info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_mode, \
        info.st_uid


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
