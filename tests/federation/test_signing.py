"""The node's keys: created once, readable only by the service user, rotated, never logged."""

import base64
import logging
import shutil
import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from nacl.signing import SigningKey

from core import keystore
from core.testing import TEST_PASSPHRASE, all_databases
from federation import identity, protocol, signing


@pytest.fixture
def node_app(federation_app):
    return federation_app()


def seed_of(app, key_id=None) -> bytes:
    """The private key's seed, as the key store opens it (the test holds the passphrase)."""
    with app.app_context():
        return keystore.open_secret(f"federation.{key_id or signing.identity().current}")


def test_the_key_is_wrapped_by_the_node_key_and_readable_only_by_the_service_user(node_app):
    folder = signing.keys_folder(node_app)
    own = signing.identity(node_app)
    seed = seed_of(node_app)
    assert SigningKey(seed).verify_key.encode() == own.genesis.public_key
    assert list(folder.glob("*.key")) == []  # no seed in clear
    sealed = keystore.keystore(node_app).secrets_folder / f"federation.{own.current}.sealed"
    assert seed not in sealed.read_bytes()
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / signing.STATE_FILE).stat().st_mode) == 0o600


def test_the_state_file_holds_public_keys_only(node_app):
    folder = signing.keys_folder(node_app)
    own = signing.identity(node_app)
    seed = seed_of(node_app)
    state = (folder / signing.STATE_FILE).read_text()
    assert protocol.b64(seed) not in state and seed.hex() not in state
    assert protocol.b64(own.genesis.public_key) in state


def test_the_node_id_is_the_first_key_and_the_hook_reports_it(node_app, make_app):
    own = signing.identity(node_app)
    assert own.node_id == own.current == identity.key_id_of(own.genesis.public_key)
    again = make_app(PLUGINS=["federation"])
    assert again.config["NODE_ID"] == own.node_id


def test_a_second_identity_is_refused(node_app):
    with node_app.app_context(), pytest.raises(signing.SigningError):
        signing.create_identity(node_app)


def test_signatures_verify_with_the_public_key(node_app):
    with node_app.app_context():
        signature = signing.sign(b"hello")
        own = signing.identity()
    assert identity.verify(own.genesis.public_key, b"hello", signature)
    assert not identity.verify(own.genesis.public_key, b"hellO", signature)


def test_rotation_keeps_the_node_id_and_certifies_the_new_key(node_app):
    with node_app.app_context():
        old, new = signing.rotate()
        own = signing.identity()
        assert own.node_id == old.key_id and own.current == new.key_id
        chain = identity.read_key_chain(own.node_id, [k.as_json() for k in own.keys])
        assert [k.key_id for k in chain] == [old.key_id, new.key_id]
        assert chain[0].superseded_at == chain[1].valid_from
        assert identity.verify(new.public_key, b"x", signing.sign(b"x"))
        assert identity.verify(old.public_key, b"x", signing.sign(b"x", key_id=old.key_id))


def test_another_process_sees_a_rotation(node_app, make_app):
    other = make_app(PLUGINS=["federation"])  # the same instance folder: another worker
    with other.app_context():
        before = signing.identity(other).current
    with node_app.app_context():
        signing.rotate()
    with other.app_context():
        assert signing.identity(other).current != before


def test_the_current_key_cannot_be_revoked_and_a_revoked_key_signs_nothing(node_app):
    from core import clock

    with node_app.app_context():
        with pytest.raises(signing.SigningError):
            signing.record_revocation(signing.identity().current, clock.now())
        old, _new = signing.rotate()
        signing.record_revocation(old.key_id, clock.now())
        with pytest.raises(signing.SigningError):
            signing.sign(b"x", key_id=old.key_id)


def test_a_superseded_key_signs_only_its_successors_announcement(node_app):
    """Issue 19, Found 3: from its switch on, a superseded key signs nothing else."""
    with node_app.app_context():
        first, second = signing.rotate()
        assert signing.sign(b"announce", key_id=first.key_id)  # the rotation's key entries
        _second, _third = signing.rotate()
        with pytest.raises(signing.SigningError):
            signing.sign(b"x", key_id=first.key_id)  # two keys back: nothing at all
        assert signing.sign(b"announce", key_id=second.key_id)


def test_no_key_material_reaches_the_logs(node_app, caplog):
    caplog.set_level(logging.DEBUG)
    with node_app.app_context():
        signing.rotate()
        signing.sign(b"x")
        seeds = [keystore.open_secret(f"federation.{key.key_id}")
                 for key in signing.identity().keys]
    logged = caplog.text
    assert len(seeds) == 2
    for seed in seeds:
        assert seed.hex() not in logged and protocol.b64(seed) not in logged


def test_without_a_key_the_node_says_how_to_make_one(make_app):
    app = make_app(PLUGINS=["federation"])
    with app.app_context(), pytest.raises(signing.SigningError, match="federation init"):
        signing.sign(b"x")
    assert app.config["NODE_ID"] == "local"


def test_sealed_boxes_open_only_with_the_node_key(node_app, make_app):
    from nacl.public import SealedBox
    from nacl.signing import VerifyKey

    with node_app.app_context():
        public = signing.identity().genesis.public_key
        box = SealedBox(VerifyKey(public).to_curve25519_public_key()).encrypt(b"bundle")
        assert signing.open_sealed(box) == b"bundle"


# -- a locked node, a copied node ----------------------------------------------------------


def test_a_locked_node_signs_nothing_but_still_says_who_it_is(node_app):
    with node_app.app_context():
        own = signing.identity()
        state = (signing.keys_folder() / signing.STATE_FILE).read_bytes()
        keystore.keystore().lock()
        assert not signing.unlocked()
        for act in (lambda: signing.sign(b"x"), signing.rotate,
                    lambda: signing.open_sealed(b"\x00" * 80), identity.node_document):
            with pytest.raises(keystore.NodeLocked):
                act()
        assert (signing.keys_folder() / signing.STATE_FILE).read_bytes() == state  # no rotation
        assert signing.identity() == own  # the node id and public keys stay readable
        answer = node_app.test_client().get("/.well-known/rabita")
        assert answer.status_code == 503 and answer.get_json()["error"] == "node-locked"
        assert "Signature" not in answer.headers
        keystore.keystore().unlock(TEST_PASSPHRASE)
        assert identity.verify(own.genesis.public_key, b"x", signing.sign(b"x"))
        assert node_app.test_client().get("/.well-known/rabita").status_code == 200


def encodings_of_a_private_key(seed: bytes) -> dict[str, bytes]:
    """Every way a copy could hold the key: the seed raw, hex, base64, base32 and the 64-byte
    secret key (seed and public key), and the key as PEM and DER (PKCS#8)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(seed)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    secret_key = SigningKey(seed)._signing_key  # PyNaCl's 64-byte form
    found = {"raw": seed, "hex": seed.hex().encode(), "HEX": seed.hex().upper().encode(),
             "base64": base64.b64encode(seed).rstrip(b"="),
             "base64url": base64.urlsafe_b64encode(seed).rstrip(b"="),
             "base32": base64.b32encode(seed).rstrip(b"="),
             "base32 lower": base64.b32encode(seed).rstrip(b"=").lower(),
             "secret key": secret_key, "secret key hex": secret_key.hex().encode(),
             "secret key base64": base64.b64encode(secret_key).rstrip(b"="),
             "PEM": pem, "PEM body": b"".join(pem.splitlines()[1:-1]), "DER": der,
             "curve25519": bytes(SigningKey(seed).to_curve25519_private_key())}
    return found


def found_in(blob: bytes, seed: bytes) -> list[str]:
    return [name for name, encoded in encodings_of_a_private_key(seed).items()
            if encoded in blob]


def test_the_search_for_the_key_finds_each_encoding():
    seed = bytes(SigningKey.generate())
    for name, encoded in encodings_of_a_private_key(seed).items():
        assert name in found_in(b"..." + encoded + b"...", seed)


@all_databases
def test_a_copied_instance_folder_and_database_cannot_act_as_the_node(
        federation_app, make_app, db_backend, database_url, tmp_path):
    from tests.core.test_totp import stored_bytes

    app = federation_app()
    with app.app_context():
        signing.rotate()  # two keys: the genesis key and the current one
        seeds = [seed_of(app, key.key_id) for key in signing.identity().keys]
    copy = tmp_path / "seized"
    shutil.copytree(app.instance_path, copy / "instance")
    every_file = b"".join(path.read_bytes() for path in (copy / "instance").rglob("*")
                          if path.is_file())
    database = stored_bytes(db_backend, database_url)
    if db_backend == "sqlite":
        shutil.copy(urlsplit(database_url).path, copy / "rabita.db")
    for seed in seeds:
        assert found_in(every_file, seed) == [] and found_in(database, seed) == []
    # The copy, served elsewhere without the passphrase: the same node id, and no signature.
    seized = make_app(INSTANCE_PATH=str(copy / "instance"), PLUGINS=["federation"],
                      KEY_SHARE_DIR=str(copy / "shm"),
                      SQLALCHEMY_DATABASE_URI=f"sqlite:///{copy / 'rabita.db'}"
                      if db_backend == "sqlite" else database_url)
    with seized.app_context():
        assert seized.config["NODE_ID"] == app.config["NODE_ID"]
        with pytest.raises(keystore.NodeLocked):
            signing.sign(b"I am the node")
        with pytest.raises(keystore.WrongPassphrase):
            keystore.keystore().unlock("a guess at the passphrase, long enough")
    answer = seized.test_client().get("/.well-known/rabita")
    assert answer.status_code == 503 and answer.get_json()["error"] == "node-locked"


def write_clear_identity(app) -> tuple[str, bytes]:
    """A node made before the keys were wrapped: its seed in clear, ``<key id>.key``."""
    from core import clock

    folder = signing.keys_folder(app)
    folder.mkdir(mode=0o700, parents=True)
    seed = SigningKey.generate()
    key_id = identity.key_id_of(bytes(seed.verify_key))
    (folder / f"{key_id}.key").write_bytes(bytes(seed))
    (folder / f"{key_id}.key").chmod(0o600)
    key = signing.PublicKey(key_id, bytes(seed.verify_key), protocol.at_text(clock.now()))
    signing._write_state(folder, signing.Identity(key_id, key_id, (key,)))
    return key_id, bytes(seed)


def test_a_clear_key_of_an_older_node_is_wrapped_at_the_first_unlock(make_app, caplog):
    app = make_app(PLUGINS=["federation"], unlocked=True)
    keystore.keystore(app).lock()
    key_id, seed = write_clear_identity(app)
    clear = signing.keys_folder(app) / f"{key_id}.key"
    with app.app_context():
        assert signing.identity().node_id == key_id  # readable while locked
        assert clear.exists()  # a locked node cannot wrap it: it stays until the unlock
        keystore.keystore().unlock(TEST_PASSPHRASE)
        assert signing.identity().node_id == key_id
        assert not clear.exists()
        assert keystore.open_secret(f"federation.{key_id}") == seed
        signature = signing.sign(b"x")
    assert identity.verify(SigningKey(seed).verify_key.encode(), b"x", signature)
    assert "Wrapped federation key" in caplog.text and seed.hex() not in caplog.text
    again = make_app(PLUGINS=["federation"])  # another worker: nothing left to wrap
    assert again.config["NODE_ID"] == key_id and list(Path(again.instance_path).rglob(
        "*.key")) == []


def test_a_clear_key_that_does_not_match_its_id_is_left_alone(make_app):
    app = make_app(PLUGINS=["federation"], unlocked=True)
    key_id, _seed = write_clear_identity(app)
    clear = signing.keys_folder(app) / f"{key_id}.key"
    clear.write_bytes(bytes(SigningKey.generate()))
    with app.app_context(), pytest.raises(signing.SigningError, match="does not match"):
        signing.sign(b"x")
    assert clear.exists() and not keystore.has_secret(f"federation.{key_id}", app)


def test_rotating_the_node_key_rewraps_the_federation_key(node_app, make_app):
    store = keystore.keystore(node_app)
    own = signing.identity(node_app)
    sealed = store.secrets_folder / f"federation.{own.current}.sealed"
    before = sealed.read_bytes()[:4]
    store.begin_rotation(TEST_PASSPHRASE)
    finished = store.finish_rotation(TEST_PASSPHRASE)
    assert sealed.read_bytes()[:4].hex() == finished.current != before.hex()
    worker = make_app(PLUGINS=["federation"])  # another worker, unlocked through the share
    with worker.app_context():
        assert identity.verify(own.genesis.public_key, b"x", signing.sign(b"x"))
