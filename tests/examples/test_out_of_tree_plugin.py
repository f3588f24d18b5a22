"""The example out-of-tree plugin (examples/rabita-country-ma): built and installed into a
fresh virtual environment with Rabita itself (from this working tree), found through its
``rabita.plugins`` entry point, turned on by a node's config, migrated, and its own tests
passing there.

Keeping it fast: the new environment reuses this one's installed dependencies (a ``.pth``
file naming its site-packages, as ``--system-site-packages`` would name the system's), and
only Rabita and the plugin are built and installed into it (``pip --no-deps``; pip fetches
setuptools for the build once, then from its cache).
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "rabita-country-ma"
RABITA_SOURCES = ("pyproject.toml", "setup.cfg", "README.md", "core", "plugins", "federation")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")


def run(*command, cwd=None, env=None):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def fresh_environment(tmp_path_factory):
    """A new virtual environment with Rabita and the example plugin installed (no editable
    install, no path into this tree), this environment's dependencies reused."""
    where = tmp_path_factory.mktemp("out-of-tree")
    environment = where / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    site_packages = Path(run(str(python), "-c", "import sysconfig; "
                             "print(sysconfig.get_paths()['purelib'])").strip())
    (site_packages / "reused-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for name in RABITA_SOURCES:  # copied: a build writes into the folder it builds
        source, target = ROOT / name, where / "rabita" / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=SKIP)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    shutil.copytree(EXAMPLE, where / "example", ignore=SKIP)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
           "--quiet", "--disable-pip-version-check"]
    run(*pip, str(where / "rabita"))
    run(*pip, str(where / "example"))
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{environment / 'bin'}{os.pathsep}{env['PATH']}"
    return where, python, env


@pytest.mark.slow
def test_it_is_found_through_its_entry_point_from_the_installed_packages(fresh_environment):
    where, python, env = fresh_environment
    shown = run(str(python), "-c", (
        "import importlib.metadata as m, core, rabita_country_ma as p; "
        "print([e.value for e in m.entry_points(group='rabita.plugins', name='country_ma')]); "
        "print(core.__file__); print(p.__file__)"), cwd=where, env=env).splitlines()
    assert shown[0] == "['rabita_country_ma']"
    installed = str(where / "venv")
    assert shown[1].startswith(installed) and shown[2].startswith(installed)  # not this tree


@pytest.mark.slow
def test_a_node_configured_with_it_starts_and_migrates(fresh_environment):
    where, _python, env = fresh_environment
    secrets = where / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "password").write_text("correct horse battery staple 2026\n")
    (secrets / "passphrase").write_text("a long enough node passphrase\n")
    rabita = str(where / "venv" / "bin" / "rabita")
    node = str(where / "node")
    run(rabita, "--instance", node, "init", "--admin", "nour",
        "--admin-password-file", str(secrets / "password"),
        "--passphrase-file", str(secrets / "passphrase"),
        "--plugin", "plugins.cases", "--plugin", "country_ma", cwd=where, env=env)
    assert "'country_ma'" in (where / "node" / "config.py").read_text()
    run(rabita, "--instance", node, "db", "upgrade", cwd=where, env=env)
    checked = run(rabita, "--instance", node, "db", "check", cwd=where, env=env)
    assert "The database matches the models." in checked
    served = run(str(where / "venv" / "bin" / "python"), "-c", (
        "from core.app import create_app; from core.places import gazetteer; "
        "app = create_app(); client = app.test_client(); "
        "print(client.get('/login').status_code); "
        "ctx = app.app_context(); ctx.push(); print(gazetteer().get('MA-06').name('ar'))"),
        cwd=where, env={**env, "RABITA_INSTANCE_PATH": node})
    assert served.splitlines() == ["200", "جهة الدار البيضاء سطات"]  # the node runs with it


@pytest.mark.slow
def test_its_own_tests_pass_where_it_is_installed(fresh_environment):
    where, python, env = fresh_environment
    output = run(str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 cwd=where / "example", env=env)
    assert " passed" in output and "failed" not in output and "skipped" not in output
