"""The command line: `rabita init` makes the key; keys, retraction and quarantines."""

import stat

from click.testing import CliRunner

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
    keys = tmp_path / "node" / "federation" / "keys"
    (seed,) = keys.glob("*.key")
    assert stat.S_IMODE(seed.stat().st_mode) == 0o600
    assert seed.read_bytes().hex() not in result.output
    from core import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path / "node"), "TESTING": True})
    assert app.config["NODE_ID"] == seed.stem


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
