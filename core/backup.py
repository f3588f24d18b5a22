"""Backups of a node: one encrypted, authenticated archive, and its restore onto a new instance.

An archive holds everything a node needs to come back: its database (SQLite's online backup
API, consistent while the node writes; ``pg_dump`` for PostgreSQL), its instance folder
(``config.py``, the keyring with the wrapped node key, the wrapped federation keys) and a
manifest (format, the schema's revision of each migration branch, the node's id, when it was
taken, and each file's SHA-256).

The archive is sealed with a backup passphrase: argon2id makes a key of it
(``core.keystore.passphrase_key``, the keyring's parameters; they and the salt are in the
archive's header), and libsodium's ``crypto_secretstream_xchacha20poly1305`` (via
PyNaCl) encrypts the tar stream in 64 KiB chunks, each authenticated and numbered, the last one
marked final: a wrong passphrase, any changed byte, a chunk moved, dropped or added, or a
truncated file is refused. The header itself is authenticated with the first chunk.

Restoring writes nothing until the whole archive has been opened and checked into a temporary
folder beside the target: an archive from a newer version of Rabita (a migration this code does
not know) is refused; an older one is migrated after it is in place.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nacl import bindings as sodium
from nacl.exceptions import CryptoError
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from core import keystore

MAGIC = b"RABITA-BACKUP\x00v1"  # 16 bytes
CHUNK = 64 * 1024
_HEADER = struct.Struct(">16sIII16s")  # magic, argon2id time cost, memory (KiB), lanes, salt
_LENGTH = struct.Struct(">I")
_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
# An archive asking for more work than this is not one this code wrote (and would exhaust the
# machine): time cost, memory in KiB (1 GiB), lanes.
MAX_KDF = {"time_cost": 10, "memory_kib": 1024 * 1024, "parallelism": 16}
MANIFEST = "manifest.json"
SQLITE_FILE, PG_FILE = "database.sqlite", "database.pgdump"
# Files of an instance folder never put in an archive: the database (taken by its own means)
# and what SQLite and the node make while running.
SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """An archive that cannot be written, opened or restored; the message says why."""


@dataclass(frozen=True)
class Manifest:
    node_id: str | None
    created_at: str
    database: str  # "sqlite" or "postgresql"
    revisions: dict[str, str]  # migration branch -> its revision in the archive's database
    files: dict[str, str]  # path in the archive -> SHA-256

    def text(self) -> bytes:
        return json.dumps({"format": 1, "node_id": self.node_id, "created_at": self.created_at,
                           "database": self.database, "revisions": self.revisions,
                           "files": self.files}, indent=1, sort_keys=True).encode()

    @classmethod
    def read(cls, text: bytes) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("format") != 1:
                raise BackupError("This archive was written by a newer version of Rabita "
                                  "(its format is not known here).")
            return cls(data["node_id"], data["created_at"], data["database"],
                       dict(data["revisions"]), dict(data["files"]))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError("The archive's manifest cannot be read.") from error


# -- the sealed stream -----------------------------------------------------------------------


class SealedWriter(io.RawIOBase):
    """A file object that encrypts what is written to it into ``target`` (see the module)."""

    def __init__(self, target, passphrase: str):
        super().__init__()
        kdf = dict(keystore.KDF)  # read now: tests make it cheap
        salt = os.urandom(16)
        key = keystore.passphrase_key(passphrase, salt, kdf)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        stream_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self._header = _HEADER.pack(MAGIC, kdf["time_cost"], kdf["memory_kib"],
                                    kdf["parallelism"], salt)
        target.write(self._header + stream_header)
        self._target, self._buffer, self._first = target, bytearray(), True

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte for the final chunk
            self._push(bytes(self._buffer[:CHUNK]), _TAG_MESSAGE)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._push(bytes(self._buffer), _TAG_FINAL)
            self._buffer.clear()
        super().close()

    def _push(self, chunk: bytes, tag: int) -> None:
        sealed = sodium.crypto_secretstream_xchacha20poly1305_push(
            self._state, chunk, self._header if self._first else None, tag)
        self._first = False
        self._target.write(_LENGTH.pack(len(sealed)) + sealed)


class OpenedReader(io.RawIOBase):
    """A file object that reads an archive's plaintext, checking every chunk as it comes."""

    def __init__(self, source, passphrase: str):
        super().__init__()
        header = source.read(_HEADER.size)
        stream_header = source.read(sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES)
        if len(header) < _HEADER.size or len(stream_header) < \
                sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES:
            raise BackupError("This is not a Rabita backup (it is too short).")
        magic, time_cost, memory_kib, parallelism, salt = _HEADER.unpack(header)
        if magic != MAGIC:
            raise BackupError("This is not a Rabita backup, or one from a newer version.")
        kdf = {"time_cost": time_cost, "memory_kib": memory_kib, "parallelism": parallelism}
        if not (1 <= time_cost <= MAX_KDF["time_cost"] and 1 <= parallelism <=
                MAX_KDF["parallelism"] and 8 * parallelism <= memory_kib <= MAX_KDF["memory_kib"]):
            raise BackupError("The archive's header is not one Rabita writes.")
        key = keystore.passphrase_key(passphrase, salt, kdf)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, stream_header,
                                                                   key)
        except (CryptoError, ValueError) as error:
            raise BackupError("The archive's header is damaged.") from error
        self._source, self._header, self._first = source, header, True
        self._plain, self._final = b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._plain and not self._final:
            self._pull()
        count = min(len(buffer), len(self._plain))
        buffer[:count] = self._plain[:count]
        self._plain = self._plain[count:]
        return count

    def _pull(self) -> None:
        length = self._source.read(_LENGTH.size)
        if len(length) < _LENGTH.size:
            raise BackupError("The archive is truncated: its end is missing.")
        (size,) = _LENGTH.unpack(length)
        if size > CHUNK + sodium.crypto_secretstream_xchacha20poly1305_ABYTES:
            raise BackupError("The archive is damaged (a chunk has an impossible size).")
        sealed = self._source.read(size)
        if len(sealed) < size:
            raise BackupError("The archive is truncated: its end is missing.")
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                self._state, sealed, self._header if self._first else None)
        except (CryptoError, ValueError) as error:
            raise BackupError(
                "The archive cannot be opened: the passphrase is wrong, or the file was "
                "changed or damaged." if self._first else
                "The archive was changed or damaged (a part of it does not check).") from error
        self._first = False
        self._plain = plain
        if tag == _TAG_FINAL:
            self._final = True
            if self._source.read(1):
                raise BackupError("The archive was changed: something follows its end.")


# -- writing an archive -----------------------------------------------------------------------


Progress = Callable[[int], None]


def write(target: Path, passphrase: str, *, instance: Path, database_url: str,
          node_id: str | None, revisions: dict[str, str],
          progress: Progress | None = None) -> Manifest:
    """Write the archive of a node to ``target`` (made 0600; an existing file is refused)."""
    url = make_url(database_url)
    kind = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    with tempfile.TemporaryDirectory(prefix="rabita-backup-") as scratch:
        dump = Path(scratch) / (SQLITE_FILE if kind == "sqlite" else PG_FILE)
        if kind == "sqlite":
            _copy_sqlite(Path(url.database), dump)
        else:
            _pg_dump(url, dump)
        files = {f"instance/{path.relative_to(instance).as_posix()}":
                 _snapshot(path, Path(scratch) / "instance" / path.relative_to(instance))
                 for path in _instance_files(instance, url)}
        files[dump.name] = dump
        manifest = Manifest(node_id, datetime.now(UTC).isoformat(timespec="seconds"), kind,
                            revisions, {name: _sha256(path) for name, path in files.items()})
        try:
            handle = os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                               "wb")
        except FileExistsError as error:
            raise BackupError(f"{target} already exists: choose another name.") from error
        try:
            with handle, SealedWriter(handle, passphrase) as sealed, \
                    tarfile.open(fileobj=sealed, mode="w|") as archive:
                _add_bytes(archive, MANIFEST, manifest.text())
                for name, path in files.items():
                    archive.add(str(path), arcname=name, recursive=False)
                    if progress is not None:
                        progress(path.stat().st_size)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return manifest


def _snapshot(path: Path, copy: Path) -> Path:
    """A copy of an instance file, so that what is hashed is what is archived even when the
    node writes the file meanwhile (a log it appends to)."""
    copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy2(path, copy)
    return copy


def _copy_sqlite(source: Path, copy: Path) -> None:
    """SQLite's online backup: a consistent copy while the node goes on writing (it copies a
    few hundred pages at a time and starts again if a writer changed what it copied)."""
    origin, destination = sqlite3.connect(source), sqlite3.connect(copy)
    try:
        origin.backup(destination, pages=256)
    finally:
        origin.close()
        destination.close()


def _pg_dump(url, dump: Path) -> None:
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupError("pg_dump is not installed (apt-get install postgresql-client).")
    command = [program, "--format=custom", "--no-owner", "--file", str(dump)]
    schema = _schema_of(url)
    if schema:
        command += ["--schema", schema]
    result = subprocess.run([*command, _libpq(url)],  # noqa: S603 - the node's own database
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:300]}")


def _instance_files(instance: Path, url) -> Iterator[Path]:
    database = Path(url.database).resolve() if url.get_backend_name() == "sqlite" else None
    for path in sorted(instance.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if database is not None and (path.resolve() == database or
                                     path.name.startswith(database.name) and
                                     path.name.endswith(SKIPPED_SUFFIXES)):
            continue
        if path.name.endswith(SKIPPED_SUFFIXES) or path.name.endswith(".lock"):
            continue
        yield path


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    archive.addfile(info, io.BytesIO(data))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- opening and checking an archive ----------------------------------------------------------


def open_into(source: Path, passphrase: str, folder: Path) -> Manifest:
    """Open the archive into ``folder`` (empty, the caller's) and check every file against
    the manifest. Raises BackupError, with what is wrong, on any fault."""
    try:
        handle = source.open("rb")
    except OSError as error:
        raise BackupError(f"{source} cannot be read: {error.strerror}.") from error
    manifest = None
    with handle:
        reader = io.BufferedReader(OpenedReader(handle, passphrase), CHUNK)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as archive:
                for member in archive:
                    if member.name == MANIFEST:
                        manifest = Manifest.read(archive.extractfile(member).read())
                        continue
                    if not member.isfile():
                        raise BackupError("The archive holds something that is not a file.")
                    archive.extract(member, folder, filter="data")
            # the rest of the stream, up to the final chunk: nothing may follow the tar
            while reader.read(CHUNK):
                pass
        except tarfile.TarError as error:
            raise BackupError("The archive's contents cannot be read.") from error
    if manifest is None:
        raise BackupError("The archive has no manifest.")
    found = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    if found != set(manifest.files):
        raise BackupError("The archive's files are not those its manifest lists.")
    for name, digest in manifest.files.items():
        if _sha256(folder / name) != digest:
            raise BackupError(f"{name} in the archive does not match its manifest.")
    return manifest


def unknown_revisions(manifest: Manifest, known: set[str]) -> list[str]:
    """Revisions of the archive's database that this code's migrations do not know: the
    archive comes from a newer version of Rabita (or a plugin not installed here)."""
    return sorted(revision for revision in manifest.revisions.values() if revision not in known)


def restore_files(folder: Path, manifest: Manifest, instance: Path) -> None:
    """Put an opened archive's instance folder in place as ``instance`` (which must not exist
    or be empty), and its SQLite database where the config points (inside the instance)."""
    if instance.exists() and any(instance.iterdir()):
        raise BackupError(f"{instance} is not empty: restore onto a new instance folder.")
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in sorted((folder / "instance").rglob("*")):
        target = instance / path.relative_to(folder / "instance")
        if path.is_dir():
            target.mkdir(mode=0o700, exist_ok=True)
        else:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copy2(path, target)
            target.chmod(0o600)


def restore_sqlite(folder: Path, database: Path) -> None:
    if database.exists():
        raise BackupError(f"{database} already exists: restore onto a new instance.")
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy2(folder / SQLITE_FILE, database)
    database.chmod(0o600)


def restore_postgresql(folder: Path, database_url: str) -> None:
    """pg_restore into the database the restored config names, which must hold no table (a
    schema named in the URL's search_path may exist, empty: it is made again by the dump)."""
    program = shutil.which("pg_restore")
    if program is None:
        raise BackupError("pg_restore is not installed (apt-get install postgresql-client).")
    url = make_url(database_url)
    _make_room(url)
    result = subprocess.run(  # noqa: S603 - the restored node's own database and archive
        [program, "--no-owner", "--exit-on-error", "--single-transaction",
         "--dbname", _libpq(url), str(folder / PG_FILE)],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was restored into the database): "
                          f"{result.stderr.strip()[:300]}")


def _make_room(url) -> None:
    schema = _schema_of(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            inspector = inspect(connection)
            names = inspector.get_schema_names()
            if schema and schema in names:
                if inspector.get_table_names(schema=schema):
                    raise BackupError(f"The database schema {schema} is not empty: restore "
                                      "into an empty one. Nothing was written.")
                connection.execute(text(f'DROP SCHEMA "{schema}"'))
            elif not schema and inspector.get_table_names():
                raise BackupError("The database is not empty: restore into an empty one. "
                                  "Nothing was written.")
    finally:
        engine.dispose()


def _libpq(url) -> str:
    """The SQLAlchemy URL as libpq reads it (its search_path option kept)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _schema_of(url) -> str | None:
    options = url.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    for part in options.split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1].split(",")[0]
    return None
