"""rabita backup / backup verify / restore: one encrypted archive that brings a node back as it
was (on SQLite and PostgreSQL), taken while the node writes; every damaged, foreign or newer
archive refused with a sentence and nothing written."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from core import backup
from core.cli import cli as main
from core.testing import missing

PASSPHRASE = "backup passphrase for tests"


@pytest.fixture
def rabita(tmp_path, monkeypatch, insecure_fast_kdf):
    monkeypatch.delenv("RABITA_INSTANCE_PATH", raising=False)
    (tmp_path / "password").write_text("olive grove in the morning\n")
    (tmp_path / "passphrase").write_text("seven lanterns by the blue door\n")
    (tmp_path / "backup-passphrase").write_text(PASSPHRASE + "\n")
    (tmp_path / "wrong").write_text("not the backup passphrase\n")

    def run(instance, *args):
        result = CliRunner().invoke(main, ["--instance", str(instance), *args])
        os.environ.pop("RABITA_INSTANCE_PATH", None)  # keep tests independent
        if run.on_postgresql:
            _close_connections_of_the_apps_the_commands_made()
        return result

    def init(instance, *extra):
        result = run(instance, "init", "--admin", "nour", "--admin-password-file",
                     str(tmp_path / "password"), "--passphrase-file",
                     str(tmp_path / "passphrase"), "--plugin", "plugins.cases",
                     "--plugin", "plugins.country_tn", "--plugin", "federation", *extra)
        assert result.exit_code == 0, result.output
        sample = run(instance, "cases", "sample", "12", "--seed", "3", "--passphrase-file",
                     str(tmp_path / "passphrase"))
        assert sample.exit_code == 0, sample.output

    def take(instance, archive, secret_file="backup-passphrase"):  # noqa: S107 - a file name
        return run(instance, "backup", str(archive), "--passphrase-file",
                   str(tmp_path / secret_file))

    def restore(instance, archive, secret_file="backup-passphrase"):  # noqa: S107 - a file name
        return run(instance, "restore", str(archive), "--passphrase-file",
                   str(tmp_path / secret_file))

    run.init, run.take, run.restore = init, take, restore
    run.on_postgresql = False  # a test on PostgreSQL closes each command's connections
    return run


def dump(database) -> list[str]:
    with sqlite3.connect(database) as connection:
        return list(connection.iterdump())


def unmarked(database, tables: tuple[str, ...]) -> list[str]:
    return [line for line in dump(database)
            if not any(f'INSERT INTO "{name}"' in line for name in tables)]


def table(database, name: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()  # noqa: S608


def test_a_backup_restores_to_a_node_equal_to_the_source(rabita, tmp_path):
    source, copy, archive = tmp_path / "source", tmp_path / "copy", tmp_path / "node.rbk"
    rabita.init(source)
    taken = rabita.take(source, archive)
    assert taken.exit_code == 0, taken.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert b"nour" not in archive.read_bytes() and b"SECRET_KEY" not in archive.read_bytes()
    checked = rabita(source, "backup", "verify", str(archive), "--passphrase-file",
                     str(tmp_path / "backup-passphrase"))
    assert checked.exit_code == 0 and "is intact" in checked.output, checked.output

    restored = rabita.restore(copy, archive)
    assert restored.exit_code == 0, restored.output
    # Every row as it was; the restore adds its own mark (federation signs nothing until it
    # took its feeds back) and the audit entry that says so, after the source's entries.
    marks = ("federation_restored", "core_audit_entry", "core_audit_head")
    assert unmarked(copy / "rabita.db", marks) == unmarked(source / "rabita.db", marks)
    assert table(copy / "rabita.db", "core_audit_entry")[:-1] == \
        table(source / "rabita.db", "core_audit_entry")
    assert table(copy / "rabita.db", "core_audit_entry")[-1][3] == "federation.restored"
    assert len(table(copy / "rabita.db", "federation_restored")) == 1
    for name in ("config.py", "keys/keyring.json"):
        assert (copy / name).read_bytes() == (source / name).read_bytes()
    assert "intact" in rabita(copy, "audit", "verify").output
    assert "nour\tadmin" in rabita(copy, "users", "list").output


def test_a_backup_taken_while_the_node_writes_is_consistent(rabita, tmp_path):
    """Another connection commits rows all along; the archive's database is a state that was:
    intact, and each committed row whole."""
    source, copy, archive = tmp_path / "source", tmp_path / "copy", tmp_path / "node.rbk"
    rabita.init(source)
    stop, written = threading.Event(), []

    def keep_writing():
        connection = sqlite3.connect(source / "rabita.db", timeout=30)
        connection.execute("CREATE TABLE IF NOT EXISTS busy (id INTEGER PRIMARY KEY, a, b)")
        while not stop.is_set():
            value = uuid.uuid4().hex
            with connection:
                connection.execute("INSERT INTO busy (a, b) VALUES (?, ?)", (value, value))
            written.append(value)
        connection.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 50:
            threading.Event().wait(0.01)
        taken = rabita.take(source, archive)
    finally:
        stop.set()
        writer.join()
    assert taken.exit_code == 0, taken.output
    assert rabita.restore(copy, archive).exit_code == 0
    with sqlite3.connect(copy / "rabita.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = connection.execute("SELECT a, b FROM busy ORDER BY id").fetchall()
    assert rows and all(a == b for a, b in rows)
    assert [a for a, _ in rows] == written[:len(rows)]  # a prefix of what was committed


def test_a_file_the_node_appends_to_meanwhile_is_archived_as_it_was_hashed(rabita, tmp_path):
    """A log in the instance folder grows during the backup: the archive holds one state of
    it that matches its manifest (it once failed the restore: hashed, then archived longer)."""
    source, copy, archive = tmp_path / "source", tmp_path / "copy", tmp_path / "node.rbk"
    rabita.init(source)
    stop = threading.Event()

    def keep_logging():
        with (source / "server.log").open("a") as log:
            while not stop.is_set():
                log.write("a line of the server's log\n" * 50)
                log.flush()

    writer = threading.Thread(target=keep_logging)
    writer.start()
    try:
        taken = rabita.take(source, archive)
    finally:
        stop.set()
        writer.join()
    assert taken.exit_code == 0, taken.output
    restored = rabita.restore(copy, archive)
    assert restored.exit_code == 0, restored.output  # what was archived matched its hash
    # a state the log had: whole lines, then perhaps the start of one (a reader may see a
    # write of 50 lines half done: the archive holds what was read and hashed)
    *whole, last = (copy / "server.log").read_text().split("\n")
    assert whole and set(whole) == {"a line of the server's log"}
    assert "a line of the server's log".startswith(last)


def _damaged(archive: bytes) -> dict[str, bytes]:
    """Archives changed the ways a disk, a copy or an adversary would."""
    header = backup._HEADER.size + 24
    starts, place = [], header  # where each sealed chunk begins
    while place < len(archive):
        starts.append(place)
        place += 4 + int.from_bytes(archive[place:place + 4], "big")
    second, third = starts[1], starts[2]
    chunks_swapped = (archive[:header] + archive[second:third] + archive[header:second]
                      + archive[third:])
    variants = {
        "empty": b"",
        "not a backup": b"PK\x03\x04" + archive[4:],
        "header only": archive[:header],
        "truncated in a chunk": archive[:second + 100],
        "truncated at a chunk's end": archive[:third],
        "last chunk missing": archive[:starts[-1]],
        "one byte short": archive[:-1],
        "bytes added": archive + b"\x00" * 40,
        "chunks swapped": chunks_swapped,
        "kdf limits raised": archive[:16] + (99).to_bytes(4, "big") + archive[20:],
    }
    for place in (20, 40, header + 2, header + 10, second + 50, len(archive) // 2,
                  len(archive) - 5):
        flipped = bytearray(archive)
        flipped[place] ^= 0x01
        variants[f"bit flipped at {place}"] = bytes(flipped)
    return variants


def test_a_damaged_or_foreign_archive_is_refused_and_nothing_is_written(rabita, tmp_path):
    source, archive = tmp_path / "source", tmp_path / "node.rbk"
    rabita.init(source)
    assert rabita.take(source, archive).exit_code == 0
    good = archive.read_bytes()
    assert len(good) > 3 * backup.CHUNK  # several chunks, so that swapping them means something
    for name, damaged in [*_damaged(good).items(), ("wrong passphrase", good)]:
        bad = tmp_path / "bad.rbk"
        bad.write_bytes(damaged)
        target = tmp_path / f"restored-{abs(hash(name))}"
        refused = rabita.restore(target, bad,
                                 "wrong" if name == "wrong passphrase" else "backup-passphrase")
        assert refused.exit_code != 0, name
        assert "Nothing was written" in refused.output, (name, refused.output)
        assert not target.exists(), name
        verified = rabita(source, "backup", "verify", str(bad), "--passphrase-file",
                          str(tmp_path / ("wrong" if name == "wrong passphrase"
                                          else "backup-passphrase")))
        assert verified.exit_code != 0, name
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".rabita")) == []


def test_a_wrong_passphrase_says_so(rabita, tmp_path):
    source, archive = tmp_path / "source", tmp_path / "node.rbk"
    rabita.init(source)
    assert rabita.take(source, archive).exit_code == 0
    refused = rabita.restore(tmp_path / "copy", archive, "wrong")
    assert "the passphrase is wrong" in refused.output


def test_an_archive_from_a_newer_version_is_refused(rabita, tmp_path, monkeypatch):
    source, archive = tmp_path / "source", tmp_path / "node.rbk"
    rabita.init(source)
    real_revisions = backup.write

    def newer(*args, revisions, **kwargs):
        return real_revisions(*args, revisions={**revisions, "core": "core_9999"}, **kwargs)

    monkeypatch.setattr(backup, "write", newer)
    assert rabita.take(source, archive).exit_code == 0
    refused = rabita.restore(tmp_path / "copy", archive)
    assert refused.exit_code != 0 and "newer version of Rabita" in refused.output
    assert "core_9999" in refused.output and not (tmp_path / "copy").exists()


def test_an_archive_of_an_older_schema_is_migrated(rabita, tmp_path):
    source, copy, archive = tmp_path / "source", tmp_path / "copy", tmp_path / "node.rbk"
    rabita.init(source)

    def revisions(folder):
        with sqlite3.connect(folder / "rabita.db") as connection:
            return {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}

    newest = revisions(source)
    down = rabita(source, "db", "downgrade", "core_0006")
    assert down.exit_code == 0, down.output
    assert "core_0006" in revisions(source) and revisions(source) != newest
    assert rabita.take(source, archive).exit_code == 0
    assert rabita.restore(copy, archive).exit_code == 0
    assert revisions(copy) == newest


def test_a_restore_onto_a_folder_in_use_is_refused(rabita, tmp_path):
    source, archive = tmp_path / "source", tmp_path / "node.rbk"
    rabita.init(source)
    assert rabita.take(source, archive).exit_code == 0
    before = dump(source / "rabita.db")
    refused = rabita.restore(source, archive)
    assert refused.exit_code != 0 and "not empty" in refused.output
    assert dump(source / "rabita.db") == before


def test_an_existing_file_is_not_overwritten(rabita, tmp_path):
    source, archive = tmp_path / "source", tmp_path / "node.rbk"
    rabita.init(source)
    archive.write_bytes(b"something else")
    refused = rabita.take(source, archive)
    assert refused.exit_code != 0 and "already exists" in refused.output
    assert archive.read_bytes() == b"something else"


def test_postgresql_backup_and_restore(rabita, tmp_path, postgres_server_url):
    if postgres_server_url is None:
        missing("no PostgreSQL test server")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{postgres_server_url}?options=-csearch_path%3D{schema}"
    rabita.on_postgresql = True
    source, copy, archive = tmp_path / "source", tmp_path / "copy", tmp_path / "node.rbk"
    try:
        rabita.init(source, "--database-url", url)
        users = rabita(source, "users", "list").output
        taken = rabita.take(source, archive)
        assert taken.exit_code == 0, taken.output
        with admin.connect() as connection:  # the server lost, a new one empty
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        restored = rabita.restore(copy, archive)
        assert restored.exit_code == 0, restored.output
        assert rabita(copy, "users", "list").output == users
        assert "intact" in rabita(copy, "audit", "verify").output
        again = rabita.restore(tmp_path / "again", archive)  # the schema is in use now
        assert again.exit_code != 0 and "not empty" in again.output
        assert not (tmp_path / "again").exists()
    finally:
        _close_connections_of_the_apps_the_commands_made()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _close_connections_of_the_apps_the_commands_made() -> None:
    """Each command ran in this process and built apps with an engine of their own: close
    their pooled connections as the command ends, as the end of its process would (left to
    the garbage collector, psycopg warns in whatever runs then: a later command, or test).
    A pool is looked for as well as an engine: an app's engine may be gone, its pool not."""
    for found in gc.get_objects():
        if isinstance(found, Engine | Pool):
            found.dispose()
    gc.collect()
