"""The node's keys: created once, readable only by the service user, rotated, never logged."""

import logging
import stat

import pytest

from federation import identity, protocol, signing


@pytest.fixture
def node_app(federation_app):
    return federation_app()


def test_the_key_file_is_readable_only_by_the_service_user(node_app):
    folder = signing.keys_folder(node_app)
    own = signing.identity(node_app)
    seed_file = folder / f"{own.current}.key"
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / signing.STATE_FILE).stat().st_mode) == 0o600


def test_the_state_file_holds_public_keys_only(node_app):
    folder = signing.keys_folder(node_app)
    own = signing.identity(node_app)
    seed = (folder / f"{own.current}.key").read_bytes()
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


def test_no_key_material_reaches_the_logs(node_app, caplog):
    caplog.set_level(logging.DEBUG)
    with node_app.app_context():
        signing.rotate()
        signing.sign(b"x")
        folder = signing.keys_folder()
        seeds = [path.read_bytes() for path in folder.glob("*.key")]
    logged = caplog.text
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
