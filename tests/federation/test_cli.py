"""The command line: `rabita init` makes the key; keys, retraction and quarantines."""

import stat

from click.testing import CliRunner
from nacl.signing import SigningKey

from core.cli import cli
from federation import identity, signing
from tests.federation.conftest import share_testimony


def test_init_creates_the_node_key(tmp_path, monkeypatch, insecure_fast_kdf):
    (tmp_path / "pw").write_text("olive grove in the morning\n")
    (tmp_path / "pp").write_text("seven lanterns by the blue door\n")
    monkeypatch.setenv("RABITA_KEY_SHARE_DIR", f'"{tmp_path}"')
    result = CliRunner().invoke(cli, [
        "--instance", str(tmp_path / "node"), "init", "--admin", "nour", "--plugin",
        "federation", "--admin-password-file", str(tmp_path / "pw"),
        "--passphrase-file", str(tmp_path / "pp")])
    monkeypatch.delenv("RABITA_INSTANCE_PATH", raising=False)
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "node").rglob("*.key")) == []  # no seed in clear
    (sealed,) = (tmp_path / "node" / "keys" / "secrets").glob("federation.*.sealed")
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    from core import keystore
    from core.app import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path / "node"), "TESTING": True})
    assert sealed.name == f"federation.{app.config['NODE_ID']}.sealed"
    assert not keystore.keystore(app).unlocked  # init unlocked it for itself only
    keystore.keystore(app).unlock_here("seven lanterns by the blue door")
    with app.app_context():
        seed = keystore.open_secret(f"federation.{app.config['NODE_ID']}")
        assert identity.key_id_of(bytes(SigningKey(seed).verify_key)) == app.config["NODE_ID"]
    assert seed.hex() not in result.output


def test_the_key_commands(make_node):
    node = make_node("tunis", serve=False)
    shown = node.cli("peers", "fingerprint")
    assert node.fingerprint in shown.stdout and node.node_id in shown.stdout
    again = node.cli("federation", "init")
    assert again.returncode == 1 and "already holds" in again.stderr
    rotated = node.cli("federation", "rotate-key")
    assert rotated.returncode == 0 and node.node_id in rotated.stdout
    with node.context():
        own = signing.identity(node.app)
        assert own.current != own.node_id and len(own.keys) == 2
    current = node.cli("federation", "revoke-key", own.current, "--since",
                       "2026-01-01T00:00:00Z")
    assert current.returncode == 1 and "rotate first" in current.stderr
    bad = node.cli("federation", "revoke-key", own.node_id, "--since", "yesterday")
    assert bad.returncode == 1 and "YYYY-MM-DD" in bad.stderr
    revoked = node.cli("federation", "revoke-key", own.node_id, "--since",
                       "2026-01-01T00:00:00Z")
    assert revoked.returncode == 0, revoked.stderr
    with node.context():
        document = identity.read_node_document(identity.node_document())
        assert document.keys[0].revoked_at is not None


def test_retracting_a_record_and_releasing_a_quarantine(make_node, people):
    node = make_node("tunis", serve=False)
    salma, huda = people(node)
    uuid = share_testimony(node, salma, huda)
    retracted = node.cli("federation", "retract", "testimony.testimony", uuid)
    assert retracted.returncode == 0 and "from 1 feeds" in retracted.stdout
    released = node.cli("federation", "release", "a" * 32)
    assert released.returncode == 1 and "not quarantined" in released.stderr
    assert node.cli("sync").returncode == 0  # no peer: nothing to do, nothing fails


def test_a_locked_node_neither_syncs_nor_signs_from_the_command_line(make_node):
    from core import keystore

    node = make_node("tunis", serve=False)
    config = node.folder / "config.py"  # no unattended unlock: the commands find it locked
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                              if not line.startswith("PASSPHRASE_FILE")))
    with node.context():
        keystore.keystore().lock()
    for command in (["sync"], ["federation", "rotate-key"],
                    ["federation", "retract", "testimony.testimony", "x"]):
        done = node.cli(*command)
        assert done.returncode == 1 and "The node is locked" in done.stderr, command
    with node.context():
        assert len(signing.identity().keys) == 1  # nothing rotated
    assert node.cli("peers", "fingerprint").returncode == 0  # who it is: still readable


def test_rotating_the_node_key_from_the_command_line_keeps_the_node_signing(make_node):
    node = make_node("tunis", serve=False)
    rotated = node.cli("keys", "rotate", "--passphrase-file", str(node.folder / "passphrase.txt"))
    assert rotated.returncode == 0, rotated.stderr
    with node.context():  # this process sees the new keyring through the share
        from core import keystore

        own = signing.identity()
        sealed = keystore.keystore().secrets_folder / f"federation.{own.current}.sealed"
        assert sealed.read_bytes()[:4].hex() == keystore.keystore().keyring().current
        assert identity.verify(own.genesis.public_key, b"x", signing.sign(b"x"))
