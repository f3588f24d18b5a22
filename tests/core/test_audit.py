"""The audit log: hash-chained, append-only, tamper-evident, and free of identifying values."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from core import audit
from core.extensions import db
from core.testing import all_databases


def write_entries(n):
    for i in range(n):
        audit.record("test.action", target_type="thing", target_id=i, step="s" + str(i))
    db.session.commit()


def drop_append_only_guard():
    """What an attacker with database access can do: remove the triggers."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("DROP TRIGGER core_audit_entry_no_update"))
        db.session.execute(text("DROP TRIGGER core_audit_entry_no_delete"))
    else:
        db.session.execute(text("DROP TRIGGER core_audit_entry_no_change ON core_audit_entry"))
    db.session.commit()


@all_databases
def test_entries_link_up_and_verify(app_context):
    write_entries(5)
    checked, broken = audit.verify(batch_size=2)
    assert (checked, broken) == (5, None)


@all_databases
def test_the_database_refuses_changes_and_deletions(app_context):
    write_entries(2)
    with pytest.raises(DatabaseError):
        db.session.execute(text("UPDATE core_audit_entry SET action = 'x' WHERE seq = 1"))
    db.session.rollback()
    with pytest.raises(DatabaseError):
        db.session.execute(text("DELETE FROM core_audit_entry WHERE seq = 2"))
    db.session.rollback()
    assert audit.verify() == (2, None)


@all_databases
def test_a_changed_entry_is_found(app_context):
    write_entries(5)
    drop_append_only_guard()
    db.session.execute(text("UPDATE core_audit_entry SET details = '{}' WHERE seq = 3"))
    db.session.commit()
    checked, broken = audit.verify()
    assert checked == 2 and broken.seq == 3 and "changed" in broken.reason


@all_databases
def test_a_rewritten_entry_breaks_the_next_link(app_context):
    write_entries(5)
    drop_append_only_guard()
    entry = db.session.get(audit.AuditEntry, 2)
    entry.action = "test.other"
    entry.hash = audit.entry_hash(entry)  # the attacker recomputes this entry's hash...
    db.session.commit()
    checked, broken = audit.verify()
    assert broken.seq == 3 and "link" in broken.reason  # ...but the next one still names the old


@all_databases
def test_a_removed_entry_is_found(app_context):
    write_entries(5)
    drop_append_only_guard()
    db.session.execute(text("DELETE FROM core_audit_entry WHERE seq = 4"))
    db.session.commit()
    assert audit.verify()[1].seq == 4


@all_databases
def test_removed_entries_at_the_end_are_found(app_context):
    write_entries(5)
    drop_append_only_guard()
    db.session.execute(text("DELETE FROM core_audit_entry WHERE seq = 5"))
    db.session.commit()
    checked, broken = audit.verify()
    assert checked == 4 and broken is not None


@all_databases
def test_a_removed_head_is_found_even_in_an_empty_log(app_context):
    db.session.execute(text("DELETE FROM core_audit_head"))
    db.session.commit()
    assert audit.verify() == (0, audit.BrokenLink(1, "entries at the end were removed"))


@all_databases
@pytest.mark.parametrize("value", ["Salma Ben Ali", "سلمى", "192.168.1.20 x", "hunter2 password!"])
def test_free_text_cannot_be_written(app_context, value):
    with pytest.raises(audit.AuditValueError):
        audit.record("test.action", note=value)
    with pytest.raises(audit.AuditValueError):
        audit.record("test.action", target_id=value)
    db.session.rollback()
    assert audit.verify() == (0, None)


@all_databases
def test_a_failed_action_leaves_no_entry(app_context):
    audit.record("test.action")
    db.session.rollback()
    write_entries(1)
    assert audit.verify() == (1, None)


def test_an_entry_hash_is_sha256_of_its_compact_json():
    """The hash format is part of every stored chain: it must never drift."""
    entry = SimpleNamespace(seq=7, at=datetime(2026, 3, 8, 9, 30, tzinfo=UTC), actor_id=2,
                            action="auth.signed_in", target_type=None, target_id=None,
                            details='{"step":"code"}', prev_hash="a" * 64)
    assert audit.entry_hash(entry) == (
        "024fd45e5745f9e3730c464b4ed9d7f22fca0ab42d9be856d7cdf549b988f662")
