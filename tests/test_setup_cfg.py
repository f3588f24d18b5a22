"""setup.cfg has a real job: setuptools hands its [extract_messages] options to Babel, which
writes one template of every user-facing string in the project. Run here through setuptools'
own reading of the file (the Distribution every ``setup()`` command starts from)."""

import configparser
from pathlib import Path

from babel.messages.pofile import read_po
from setuptools.dist import Distribution

ROOT = Path(__file__).resolve().parent.parent
# What pyproject.toml tells setuptools about the project; setup.cfg adds the command options.
PROJECT = {"name": "rabita", "version": "0.1.0", "packages": ["core", "plugins", "federation"]}


def template(tmp_path: Path, *, with_setup_cfg: bool) -> tuple[set[str], list]:
    tmp_path.mkdir()
    dist = Distribution(dict(PROJECT))
    if with_setup_cfg:
        dist.parse_config_files([str(ROOT / "setup.cfg")])
    command = dist.get_command_obj("extract_messages")
    command.output_file = str(tmp_path / "rabita.pot")
    if not with_setup_cfg:  # Babel's defaults, on the same folders
        command.input_paths = "core,federation,plugins"
    dist.run_command("extract_messages")
    with (tmp_path / "rabita.pot").open("rb") as handle:
        catalog = list(read_po(handle))
    return {message.id for message in catalog if message.id}, catalog


def test_setup_cfg_says_why_it_exists_at_its_top():
    head = (ROOT / "setup.cfg").read_text().split("\n[", 1)[0]
    assert "pyproject.toml" in head and "extract_messages" in head


def test_setuptools_reads_the_extract_messages_options(monkeypatch):
    monkeypatch.chdir(ROOT)
    dist = Distribution(dict(PROJECT))
    dist.parse_config_files([str(ROOT / "setup.cfg")])
    options = dist.get_option_dict("extract_messages")
    assert options["keywords"] == (str(ROOT / "setup.cfg"), "_l lazy_gettext lazy_ngettext:1,2")
    assert options["mapping_file"][1] == "pyproject.toml"
    # Every section is a command setuptools knows (Babel registers them): none is dead.
    sections = configparser.ConfigParser()
    sections.read(ROOT / "setup.cfg")
    assert all(dist.get_command_class(name) for name in sections.sections())


def test_the_template_holds_every_package_s_strings_as_the_project_marks_them(
        tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    found, catalog = template(tmp_path / "configured", with_setup_cfg=True)
    # Lazy labels of the cases plugin's schema (_l), strings of core, federation, templates.
    assert {"Residence", "Exact place", "Sign out"} <= found
    files = {filename for message in catalog for filename, _line in message.locations}
    assert any(name.startswith("plugins/cases/") for name in files)
    assert any(name.startswith("federation/") for name in files)
    assert any(name.endswith(".html") for name in files)
    assert not any("/tests/" in name or name.startswith("tests/") for name in files)
    defaults, _ = template(tmp_path / "defaults", with_setup_cfg=False)
    assert "Residence" not in defaults  # found only with the keywords setup.cfg gives
