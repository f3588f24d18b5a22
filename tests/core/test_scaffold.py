"""`rabita plugin new`: a plugin in the standard shape, and the guide's tutorial run as written."""

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import scaffold
from core.cli import cli
from tools import catalogs

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugins.md"
TUTORIAL = "<!-- tests/core/test_scaffold.py runs exactly these commands"
COPIED = ("core", "plugins", "federation", "tests", "tools", "bench", "pyproject.toml")
CACHES = ("__pycache__", ".pytest_cache", ".ruff_cache")


@pytest.fixture
def tree(tmp_path):
    """A folder laid out like the project: plugins/ (a package) and tests/plugins/."""
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "__init__.py").write_text("")
    (tmp_path / "tests" / "plugins").mkdir(parents=True)
    return tmp_path


def test_it_writes_the_standard_shape_with_its_test(tree):
    result = CliRunner().invoke(cli, ["plugin", "new", "demo_notes", "--into",
                                      str(tree / "plugins"), "--tests", str(tree / "tests/plugins")])
    assert result.exit_code == 0, result.output
    plugin = tree / "plugins" / "demo_notes"
    for name in ("__init__.py", "models.py", "schemas.py", "views.py", "forms.py",
                 "permissions.py", "README.md", "templates/demo_notes/index.html"):
        assert (plugin / name).is_file(), name
    assert (plugin / "migrations").is_dir()
    assert (tree / "tests/plugins/demo_notes/test_demo_notes.py").is_file()
    assert "add 'plugins.demo_notes' to PLUGINS" in result.output
    assert "rabita db revision --branch demo_notes" in result.output


def test_its_catalogs_leave_only_its_title_to_translate(tree):
    scaffold.write_plugin("demo_notes", tree / "plugins", tree / "tests/plugins")
    for locale in catalogs.LOCALES:
        assert catalogs.untranslated(tree / "plugins" / "demo_notes", locale) == ["Demo notes"]


def test_a_record_type_of_another_name(tree):
    scaffold.write_plugin("library", tree / "plugins", tree / "tests/plugins", kind="guide_book")
    models = (tree / "plugins/library/models.py").read_text()
    assert 'class GuideBook(RecordMixin' in models and '"library.guide_book"' in models
    assert 'library_guide_book' in models


@pytest.mark.parametrize("name, words", [
    ("Demo", "not usable"), ("9lives", "not usable"), ("class", "not usable"),
    ("d", "not usable"), ("admin", "reserved"), ("plugin", "reserved"),
    ("country_dz", "country plugin is data"),
])
def test_a_bad_name_is_refused_and_nothing_is_written(tree, name, words):
    before = sorted(tree.rglob("*"))
    result = CliRunner().invoke(cli, ["plugin", "new", name, "--into", str(tree / "plugins"),
                                      "--tests", str(tree / "tests/plugins")])
    assert result.exit_code == 1 and words in result.output
    assert "Nothing was written." in result.output
    assert sorted(tree.rglob("*")) == before


def test_an_existing_plugin_is_never_overwritten(tree):
    (tree / "tests/plugins/notes").mkdir()
    with pytest.raises(scaffold.ScaffoldError, match="already exists"):
        scaffold.write_plugin("notes", tree / "plugins", tree / "tests/plugins")
    assert not (tree / "plugins" / "notes").exists()


def test_a_package_is_named_by_the_packages_it_sits_in(tree):
    assert scaffold.package_of(tree / "plugins" / "notes") == "plugins.notes"
    assert scaffold.package_of(tree / "notes") == "notes"


# -- the tutorial in docs/plugins.md, run as written ------------------------------------------


def tutorial_commands() -> list[list[str]]:
    """The shell block of the guide's tutorial, one command a line."""
    text = GUIDE.read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text[text.index(TUTORIAL):], re.S).group(1)
    return [shlex.split(line) for line in block.splitlines() if line.strip()]


def fingerprints(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and not set(p.parts) & set(CACHES)}


@pytest.mark.slow
def test_the_tutorial_makes_a_plugin_that_loads_migrates_redacts_exports_and_passes(tmp_path):
    """In a copy of the tree: every command of the tutorial succeeds (the generated test runs
    its migrations up and down on SQLite and PostgreSQL, redacts and exports), and no file
    outside the new plugin's two folders changes."""
    copy = tmp_path / "rabita"
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns(*CACHES))
        else:
            shutil.copy2(source, copy / name)
    (copy / "pw.txt").write_text("olive grove in the morning\n")
    (copy / "passphrase.txt").write_text("seven lanterns by the blue door\n")
    before = fingerprints(copy)
    environment = {**os.environ, "PYTHONPATH": str(copy)}
    environment.pop("RABITA_INSTANCE_PATH", None)
    for command in tutorial_commands():
        program = Path(sys.executable).parent / command[0]
        done = subprocess.run([str(program), *command[1:]], cwd=copy, env=environment,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{shlex.join(command)}:\n{done.stdout}\n{done.stderr}"
    after = fingerprints(copy)
    changed = [path for path, digest in before.items() if after.get(path) != digest]
    added = [path for path in after.keys() - before.keys()
             if not path.startswith(("plugins/demo_notes/", "tests/plugins/demo_notes/",
                                     "dev-node/"))]
    assert changed == [] and added == []
    assert list((copy / "plugins/demo_notes/migrations").glob("demo_notes_0001_*.py"))
