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

    def run(*args, input=None):
        result = CliRunner().invoke(main, ["--instance", str(instance), *args], input=input)
        # The --instance option sets the variable for the app; keep tests independent.
        os.environ.pop("RABITA_INSTANCE_PATH", None)
        return result

    run.instance = instance
    run.password_file = password_file
    return run


def test_init_creates_a_working_instance(rabita):
    result = rabita("init", "--admin", "nour", "--admin-password-file", str(rabita.password_file),
                    "--node-name", "Tunis node")
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
    args = ["init", "--admin", "nour", "--admin-password-file", str(rabita.password_file)]
    assert rabita(*args).exit_code == 0
    before = (rabita.instance / "config.py").read_text()
    again = rabita(*args)
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
    result = rabita("init", "--admin", username, "--admin-password-file", str(bad))
    assert result.exit_code != 0 and words in result.output and "Nothing was changed" in result.output
    assert not rabita.instance.exists()


def test_users_create_list_and_disable(rabita):
    rabita("init", "--admin", "nour", "--admin-password-file", str(rabita.password_file))
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

    rabita("init", "--admin", "nour", "--admin-password-file", str(rabita.password_file))
    rabita("users", "create", "salma", "--password-file", str(rabita.password_file))
    database = sqlite3.connect(rabita.instance / "rabita.db")
    database.execute("DROP TRIGGER core_audit_entry_no_update")
    database.execute("UPDATE core_audit_entry SET details = '{\"role\":\"admin\"}' WHERE seq = 2")
    database.commit()
    database.close()
    result = rabita("audit", "verify")
    assert result.exit_code != 0 and "broken at entry 2" in result.output


def test_db_commands(rabita):
    rabita("init", "--admin", "nour", "--admin-password-file", str(rabita.password_file))
    assert "matches the models" in rabita("db", "check").output
    assert rabita("db", "upgrade").exit_code == 0


def test_a_node_without_a_secret_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.delenv("RABITA_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["--instance", str(tmp_path / "empty"), "users", "list"])
    os.environ.pop("RABITA_INSTANCE_PATH", None)
    assert result.exit_code != 0
    assert "SECRET_KEY is not set" in str(result.exception) + result.output
