"""The rabita command line: init, users, db, audit. Errors are sentences; exit codes non-zero."""

import os
import stat

import pytest
from click.testing import CliRunner

from core.cli import cli as main


@pytest.fixture
def rabita(tmp_path, monkeypatch, insecure_fast_kdf):
    monkeypatch.delenv("RABITA_INSTANCE_PATH", raising=False)
    instance = tmp_path / "node"
    password_file = tmp_path / "password"
    password_file.write_text("olive grove in the morning\n")
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text("seven lanterns by the blue door\n")

    def run(*args, input=None):
        result = CliRunner().invoke(main, ["--instance", str(instance), *args], input=input)
        # The --instance option sets the variable for the app; keep tests independent.
        os.environ.pop("RABITA_INSTANCE_PATH", None)
        return result

    def init(*extra):
        return run("init", "--admin", "nour", "--admin-password-file", str(password_file),
                   "--passphrase-file", str(passphrase_file), *extra)

    run.instance = instance
    run.password_file = password_file
    run.passphrase_file = passphrase_file
    run.init = init
    return run


def test_init_creates_a_working_instance(rabita):
    result = rabita.init("--node-name", "Tunis node")
    assert result.exit_code == 0, result.output
    config = rabita.instance / "config.py"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(rabita.instance.stat().st_mode) == 0o700
    assert "SECRET_KEY" in config.read_text() and "Tunis node" in config.read_text()
    assert (rabita.instance / "rabita.db").exists()
    listed = rabita("users", "list")
    assert listed.exit_code == 0 and "nour\tadmin\tno-2fa\tactive" in listed.output
    assert "intact: 1 entries" in rabita("audit", "verify").output


def test_init_refuses_to_run_twice(rabita):
    assert rabita.init().exit_code == 0
    before = (rabita.instance / "config.py").read_text()
    again = rabita.init()
    assert again.exit_code != 0 and "already initialised" in again.output
    assert (rabita.instance / "config.py").read_text() == before


@pytest.mark.parametrize("username, password, words", [
    ("no spaces", "olive grove in the morning", "A username has"),
    ("nour", "short", "at least 12 characters"),
    ("nour", "x" * 129, "at most 128 characters"),
])
def test_init_with_bad_input_changes_nothing(rabita, tmp_path, username, password, words):
    bad = tmp_path / "bad-password"
    bad.write_text(password + "\n")
    result = rabita("init", "--admin", username, "--admin-password-file", str(bad),
                    "--passphrase-file", str(rabita.passphrase_file))
    assert result.exit_code != 0 and words in result.output and "Nothing was changed" in result.output
    assert not rabita.instance.exists()


def test_users_create_list_and_disable(rabita):
    rabita.init()
    pw = str(rabita.password_file)
    assert rabita("users", "create", "salma", "--role", "documenter", "--password-file", pw).exit_code == 0
    duplicate = rabita("users", "create", "salma", "--password-file", pw)
    assert duplicate.exit_code != 0 and "already taken" in duplicate.output
    assert rabita("users", "disable", "salma").exit_code == 0
    assert "salma\tdocumenter\tno-2fa\tdisabled" in rabita("users", "list").output
    missing = rabita("users", "disable", "nobody")
    assert missing.exit_code != 0 and "no user named" in missing.output
    last_admin = rabita("users", "disable", "nour")
    assert last_admin.exit_code != 0 and "last active administrator" in last_admin.output


def test_audit_verify_names_the_first_broken_link(rabita):
    import sqlite3

    rabita.init()
    rabita("users", "create", "salma", "--password-file", str(rabita.password_file))
    database = sqlite3.connect(rabita.instance / "rabita.db")
    database.execute("DROP TRIGGER core_audit_entry_no_update")
    database.execute("UPDATE core_audit_entry SET details = '{\"role\":\"admin\"}' WHERE seq = 2")
    database.commit()
    database.close()
    result = rabita("audit", "verify")
    assert result.exit_code != 0 and "broken at entry 2" in result.output


def test_db_commands(rabita):
    rabita.init()
    assert "matches the models" in rabita("db", "check").output
    assert rabita("db", "upgrade").exit_code == 0


def test_a_node_without_a_secret_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.delenv("RABITA_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["--instance", str(tmp_path / "empty"), "users", "list"])
    os.environ.pop("RABITA_INSTANCE_PATH", None)
    assert result.exit_code != 0
    assert "SECRET_KEY is not set" in str(result.exception) + result.output


def test_init_creates_a_keyring_and_the_node_starts_locked(rabita):
    assert rabita.init().exit_code == 0
    keyring = rabita.instance / "keys" / "keyring.json"
    assert keyring.exists() and (keyring.stat().st_mode & 0o777) == 0o600
    assert b"seven lanterns" not in keyring.read_bytes()


def test_init_refuses_a_short_passphrase_and_changes_nothing(rabita, tmp_path):
    short = tmp_path / "short"
    short.write_text("too short\n")
    result = rabita("init", "--admin", "nour", "--admin-password-file", str(rabita.password_file),
                    "--passphrase-file", str(short))
    assert result.exit_code != 0 and "at least 16 characters" in result.output
    assert not rabita.instance.exists()


def test_keys_change_passphrase_and_rotate(rabita, tmp_path):
    rabita.init()
    new = tmp_path / "new"
    new.write_text("a different long passphrase\n")
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    refused = rabita("keys", "change-passphrase", "--old-file", str(wrong), "--new-file", str(new))
    assert refused.exit_code != 0 and "passphrase is wrong" in refused.output
    changed = rabita("keys", "change-passphrase", "--old-file", str(rabita.passphrase_file),
                     "--new-file", str(new))
    assert changed.exit_code == 0, changed.output
    rotated = rabita("keys", "rotate", "--passphrase-file", str(new))
    assert rotated.exit_code == 0 and "re-wrapped 0 data keys" in rotated.output
    assert "intact" in rabita("audit", "verify").output
