"""The key store: keyring, unlock across workers, sealing, integrity, rotation."""

import json

import pytest

from core import keystore
from core.keystore import IntegrityError, KeyStore, KeyStoreError, NodeLocked, WrongPassphrase
from core.testing import TEST_PASSPHRASE


@pytest.fixture
def node(make_app):
    app = make_app()
    with app.app_context():
        keystore.create_keyring(keystore.keyring_path(app), TEST_PASSPHRASE)
        yield app


def test_a_node_starts_locked(node):
    assert not keystore.keystore().unlocked
    with pytest.raises(NodeLocked):
        keystore.keystore().keyring()


def test_the_keyring_file_holds_no_key_in_clear(node):
    path = keystore.keyring_path()
    envelope = json.loads(path.read_text())
    assert envelope["kdf"]["alg"] == "argon2id"
    assert set(envelope) == {"format", "kdf", "salt", "nonce", "wrapped"}
    assert (path.stat().st_mode & 0o777) == 0o600


def test_production_kdf_meets_the_issue():
    assert keystore.KDF["memory_kib"] >= 65536 and keystore.KDF["time_cost"] >= 3


def test_a_wrong_passphrase_changes_nothing(node):
    before = keystore.keyring_path().read_bytes()
    with pytest.raises(WrongPassphrase, match="passphrase is wrong"):
        keystore.keystore().unlock("not the passphrase at all")
    assert not keystore.keystore().unlocked
    assert keystore.keyring_path().read_bytes() == before


def test_a_short_passphrase_is_refused(tmp_path):
    with pytest.raises(KeyStoreError, match="at least 16"):
        keystore.create_keyring(tmp_path / "k.json", "short")
    assert not (tmp_path / "k.json").exists()


def test_unlocking_in_one_worker_unlocks_all_and_locking_locks_all(node):
    first, second = KeyStore(node), KeyStore(node)
    first.unlock(TEST_PASSPHRASE)
    assert second.unlocked
    assert (first.shared.stat().st_mode & 0o777) == 0o600
    second.lock()
    assert not first.unlocked and not second.unlocked


def test_sealed_values_fail_when_changed_or_moved(node):
    keystore.keystore().unlock(TEST_PASSPHRASE)
    data_key, wrapped = keystore.new_data_key("notes.note", "id-1")
    blob = keystore.seal(data_key, b"notes.note\x00id-1\x00name", b'"Salma"')
    assert keystore.open_sealed(data_key, b"notes.note\x00id-1\x00name", blob) == b'"Salma"'
    flipped = bytearray(blob)
    flipped[-1] ^= 1
    with pytest.raises(IntegrityError):
        keystore.open_sealed(data_key, b"notes.note\x00id-1\x00name", bytes(flipped))
    with pytest.raises(IntegrityError):  # the same ciphertext, another record
        keystore.open_sealed(data_key, b"notes.note\x00id-2\x00name", blob)
    with pytest.raises(IntegrityError):  # a data key moved to another record
        keystore.unwrap_data_key(wrapped, "notes.note", "id-2")
    assert keystore.unwrap_data_key(wrapped, "notes.note", "id-1") == data_key


def test_changing_the_passphrase(node):
    keystore.keystore().change_passphrase(TEST_PASSPHRASE, "a whole new passphrase here")
    with pytest.raises(WrongPassphrase):
        keystore.keystore().unlock(TEST_PASSPHRASE)
    keystore.keystore().unlock("a whole new passphrase here")
    assert keystore.keystore().unlocked


def test_rotation_keeps_old_data_keys_readable_until_finished(node):
    store = keystore.keystore()
    store.unlock(TEST_PASSPHRASE)
    data_key, wrapped = keystore.new_data_key("notes.note", "id-1")
    store.begin_rotation(TEST_PASSPHRASE)
    assert not keystore.wrapped_by_current(wrapped)
    assert keystore.unwrap_data_key(wrapped, "notes.note", "id-1") == data_key
    rewrapped = keystore.wrap_data_key(data_key, "notes.note", "id-1")
    store.finish_rotation(TEST_PASSPHRASE)
    assert keystore.unwrap_data_key(rewrapped, "notes.note", "id-1") == data_key
    with pytest.raises(IntegrityError, match="does not hold"):
        keystore.unwrap_data_key(wrapped, "notes.note", "id-1")


def test_the_blind_index_matches_however_a_name_is_typed(node):
    keystore.keystore().unlock(TEST_PASSPHRASE)
    index = keystore.blind_index("notes.name", "سلمى بن علي")
    assert keystore.blind_index("notes.name", "  سَلمي   بن  عـلي ") == index
    assert keystore.blind_index("notes.other", "سلمى بن علي") != index
    assert "سلمى" not in index


def test_an_unattended_node_unlocks_from_a_passphrase_file(make_app, tmp_path):
    first = make_app(unlocked=True)
    keystore.keystore(first).lock()
    secret = tmp_path / "passphrase"
    secret.write_text(TEST_PASSPHRASE + "\n")
    second = make_app(create_tables=False, PASSPHRASE_FILE=str(secret))
    assert keystore.keystore(second).unlocked
