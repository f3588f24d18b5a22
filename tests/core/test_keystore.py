"""The key store: keyring, unlock across workers, sealing, integrity, rotation."""

import base64
import json
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
    assert (first.share.path.stat().st_mode & 0o777) == 0o600
    assert (first.share.folder.stat().st_mode & 0o777) == 0o700
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


# -- the share between workers: only the service user's, and only this node's -------------

NOBODY = 65534
WORKER = """
import json, sys
from core import keystore
from core.app import create_app
app = create_app(json.loads(sys.argv[1]))
store = keystore.keystore(app)
print("unlocked" if store.unlocked else "locked")
"""


def another_worker_sees(app) -> str:
    """Start a real second worker process of ``app``'s node; say what it finds."""
    import subprocess
    import sys

    settings = {name: app.config[name] for name in
                ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "KEY_SHARE_DIR")}
    settings["INSTANCE_PATH"] = app.instance_path
    done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(settings)],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def assert_locked_everywhere(app, *stores):
    for store in (keystore.keystore(app), *stores, KeyStore(app)):
        assert not store.unlocked
        with pytest.raises(NodeLocked):
            store.keyring()
    with app.app_context(), pytest.raises(NodeLocked):  # no case sealed under anyone's key
        keystore.new_data_key("notes.note", "id-1")


def rewrite(path, data: bytes):
    """Replace a file's contents, keeping its owner and mode (as its owner could)."""
    temporary = path.with_name(".planted")
    temporary.write_bytes(data)
    temporary.chmod(0o600)
    temporary.replace(path)


@pytest.mark.slow
def test_a_share_that_opens_another_keyring_is_refused(node, make_app, tmp_path, caplog):
    """The attack as found: a file holding someone's keyring (or the key of another node's
    keyring) at this node's share place. It opens nothing here; the node stays locked."""
    other = make_app(INSTANCE_PATH=str(tmp_path / "other-node"))
    keystore.create_keyring(keystore.keyring_path(other), TEST_PASSPHRASE)
    keystore.keystore(other).unlock(TEST_PASSPHRASE)  # another node, same passphrase
    ours = KeyStore(node)
    assert ours.share.path != keystore.keystore(other).share.path
    other_share = keystore.keystore(other).share.path.read_bytes()
    planted = [other_share, keystore.Keyring.new().to_json(),
               json.dumps({"format": "rabita-share-1", "kek": ""}).encode(), b"", b"\xff" * 64]
    for contents in planted:
        ours.share.folder.mkdir(mode=0o700, exist_ok=True)
        rewrite(ours.share.path, contents)
        assert_locked_everywhere(node, ours)
        if contents is other_share:  # one real second process is enough: it is slow
            assert another_worker_sees(node) == "locked"
    assert "does not open this node's keyring" in caplog.text
    assert _b64_kek(other_share) not in caplog.text  # warned without the value
    keystore.keystore(node).unlock(TEST_PASSPHRASE)  # the admin unlocks: her share replaces it
    assert ours.unlocked and another_worker_sees(node) == "unlocked"


def _b64_kek(share: bytes) -> str:
    return json.loads(share)["kek"]


@pytest.mark.slow
def test_an_altered_share_is_refused_by_every_worker(node):
    first, second = KeyStore(node), KeyStore(node)
    first.unlock(TEST_PASSPHRASE)
    assert second.unlocked and another_worker_sees(node) == "unlocked"
    share = json.loads(first.share.path.read_bytes())
    kek = bytearray(base64.b64decode(share["kek"]))
    for position in (0, 17, len(kek) - 1):
        altered = bytearray(kek)
        altered[position] ^= 0x01
        rewrite(first.share.path, json.dumps({**share, "kek": base64.b64encode(
            bytes(altered)).decode()}).encode())
        assert_locked_everywhere(node, first, second)  # even those that were unlocked
    assert another_worker_sees(node) == "locked"


@pytest.mark.slow
def test_a_link_in_the_place_of_the_share_or_its_folder_is_refused(node, tmp_path, caplog):
    first = KeyStore(node)
    first.unlock(TEST_PASSPHRASE)
    genuine = first.share.path.read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / first.share.name).write_bytes(genuine)
    (elsewhere / first.share.name).chmod(0o600)
    # A link to a genuine share: not followed.
    first.share.path.unlink()
    first.share.path.symlink_to(elsewhere / first.share.name)
    assert_locked_everywhere(node, first)
    assert another_worker_sees(node) == "locked"
    # The folder itself a link to a private folder holding a genuine share: not followed.
    first.share.path.unlink()
    first.share.folder.rmdir()
    first.share.folder.symlink_to(elsewhere, target_is_directory=True)
    assert_locked_everywhere(node, first)
    assert another_worker_sees(node) == "locked"
    with pytest.raises(keystore.ShareRefused, match="link"):
        keystore.keystore(node).unlock(TEST_PASSPHRASE)
    assert_locked_everywhere(node, first)
    assert "refused" in caplog.text and (elsewhere / first.share.name).read_bytes() == genuine


@pytest.mark.slow
@pytest.mark.parametrize("mode", [0o755, 0o750, 0o701, 0o707, 0o1777])
def test_a_share_folder_others_may_reach_is_refused_and_not_repaired(node, mode):
    store = KeyStore(node)
    store.unlock(TEST_PASSPHRASE)
    store.share.folder.chmod(mode)
    assert_locked_everywhere(node, store)
    with pytest.raises(keystore.ShareRefused, match=f"mode {mode:o}"):
        keystore.keystore(node).unlock(TEST_PASSPHRASE)
    assert stat.S_IMODE(store.share.folder.stat().st_mode) == mode  # refused, not chmodded
    assert another_worker_sees(node) == "locked"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_share_file_others_may_read_is_refused(node, mode):
    store = KeyStore(node)
    store.unlock(TEST_PASSPHRASE)
    store.share.path.chmod(mode)
    assert_locked_everywhere(node, store)


def require_root():
    from core.testing import missing

    if os.geteuid() != 0:
        missing("changing a file's owner needs root (CI runs as root)")


@pytest.mark.slow
def test_a_share_or_folder_of_another_owner_is_refused(node):
    require_root()
    store = KeyStore(node)
    store.unlock(TEST_PASSPHRASE)
    os.chown(store.share.path, NOBODY, NOBODY)
    assert_locked_everywhere(node, store)
    os.chown(store.share.path, 0, 0)
    assert store.unlocked
    os.chown(store.share.folder, NOBODY, NOBODY)
    assert_locked_everywhere(node, store)
    with pytest.raises(keystore.ShareRefused, match="another user"):
        keystore.keystore(node).unlock(TEST_PASSPHRASE)
    assert another_worker_sees(node) == "locked"


# Another local user's process: makes the folder where the node will look, with a share of
# her own making in it (the shell: the project's interpreter is not hers to run).
PLANTER = """
umask 077
mkdir "$1"
printf '{"format": "rabita-share-1", "kek": "%s"}' "$(head -c 32 /dev/urandom | base64)" > "$2"
"""


@pytest.mark.slow
def test_a_share_planted_by_another_local_user_is_refused(make_app, tmp_path):
    """Another user of the machine, in a real process of her own, plants a share where the
    node will look (a world-writable RAM folder, like /dev/shm): the node never believes it,
    and says so when an administrator unlocks."""
    import shutil
    import subprocess
    import tempfile

    require_root()
    parent = Path(tempfile.mkdtemp(prefix="rabita-test-", dir="/dev/shm"))
    try:
        parent.chmod(0o1777)
        app = make_app(KEY_SHARE_DIR=str(parent))
        with app.app_context():
            keystore.create_keyring(keystore.keyring_path(app), TEST_PASSPHRASE)
        store = keystore.keystore(app)
        subprocess.run(["/bin/sh", "-c", PLANTER, "planter", str(store.share.folder),
                        str(store.share.path)], user=NOBODY, group=NOBODY, cwd="/",
                       check=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
        assert store.share.path.exists() and store.share.folder.stat().st_uid == NOBODY
        assert_locked_everywhere(app)
        assert another_worker_sees(app) == "locked"
        with pytest.raises(keystore.ShareRefused, match="another user"):
            store.unlock(TEST_PASSPHRASE)
        assert_locked_everywhere(app)
    finally:
        shutil.rmtree(parent)


def test_an_unattended_node_will_not_start_through_a_refused_share(make_app, tmp_path):
    from core.config import StartupError

    first = make_app(unlocked=True)
    store = keystore.keystore(first)
    store.lock()
    store.share.folder.chmod(0o777)
    secret = tmp_path / "passphrase"
    secret.write_text(TEST_PASSPHRASE + "\n")
    with pytest.raises(StartupError, match="was refused"):
        make_app(create_tables=False, PASSPHRASE_FILE=str(secret))


@pytest.mark.slow
def test_changing_the_passphrase_keeps_every_worker_unlocked(node):
    first = KeyStore(node)
    first.unlock(TEST_PASSPHRASE)
    KeyStore(node).change_passphrase(TEST_PASSPHRASE, "a whole new passphrase here")
    assert KeyStore(node).unlocked and another_worker_sees(node) == "unlocked"


# -- named secrets, wrapped by the node key -------------------------------------------------


def test_a_named_secret_is_wrapped_bound_to_its_name_and_needs_the_node_unlocked(node):
    store = keystore.keystore()
    secret = os.urandom(32)
    with pytest.raises(NodeLocked):
        keystore.store_secret("federation.abc", secret)
    store.unlock(TEST_PASSPHRASE)
    keystore.store_secret("federation.abc", secret)
    path = store.secrets_folder / "federation.abc.sealed"
    assert secret not in path.read_bytes() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.secrets_folder.stat().st_mode) == 0o700
    assert keystore.open_secret("federation.abc") == secret
    assert keystore.open_secret("federation.abc", bytes.hex) == secret.hex()
    shutil_copy(path, store.secrets_folder / "federation.xyz.sealed")  # moved to another name
    with pytest.raises(IntegrityError):
        keystore.open_secret("federation.xyz")
    with pytest.raises(keystore.SecretMissing):
        keystore.open_secret("federation.nothing")
    for bad in ("../keyring", "Federation", "", "a/b", "a\x00b", "ａ"):
        with pytest.raises(KeyStoreError):
            keystore.store_secret(bad, secret)
    store.lock()
    with pytest.raises(NodeLocked):
        keystore.open_secret("federation.abc")


def shutil_copy(source, target):
    import shutil

    shutil.copyfile(source, target)


def test_rotation_rewraps_the_named_secrets(node):
    store = keystore.keystore()
    store.unlock(TEST_PASSPHRASE)
    keystore.store_secret("federation.abc", b"seed" * 8)
    path = store.secrets_folder / "federation.abc.sealed"
    old_kid = path.read_bytes()[:4].hex()
    store.begin_rotation(TEST_PASSPHRASE)
    assert keystore.open_secret("federation.abc") == b"seed" * 8
    finished = store.finish_rotation(TEST_PASSPHRASE)
    assert old_kid not in finished.node_keys
    assert path.read_bytes()[:4].hex() == finished.current
    assert KeyStore(node).opened("federation.abc", bytes) == b"seed" * 8


def test_a_keyring_left_in_clear_by_an_older_version_is_deleted_and_never_read(node):
    store = KeyStore(node)
    store.share.former.write_bytes(keystore.Keyring.new().to_json())  # as it was kept before
    assert not store.unlocked
    store.unlock(TEST_PASSPHRASE)
    assert not store.share.former.exists()
    store.share.former.write_bytes(b"{}")
    store.lock()
    assert not store.share.former.exists()


@pytest.mark.slow
def test_the_threads_of_one_worker_share_its_unlocked_keyring(node):
    """gunicorn's gthread worker: threads read through one key store while the share is
    written anew 200 times (the same key in a new file: each thread that notices reads it
    again): every read finds the node unlocked and the secret, none a keyring or a secret
    another thread has just let go."""
    store = keystore.keystore()
    store.unlock(TEST_PASSPHRASE)
    secret = os.urandom(32)
    keystore.store_secret("federation.abc", secret)
    share, done = store.share.read(), threading.Event()

    def read() -> list:
        found = []
        while not done.is_set() or not found:
            found.append(store.opened("federation.abc", bytes))
        return found

    with ThreadPoolExecutor(6) as pool:
        readers = [pool.submit(read) for _ in range(6)]
        try:
            for _ in range(200):
                KeyStore(node).share.write(share)
        finally:
            done.set()
        found = [value for reader in readers for value in reader.result()]
    assert set(found) == {secret}
