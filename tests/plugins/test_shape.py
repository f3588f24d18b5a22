"""Every plugin has the same shape, so a reader knows where to look before opening anything."""

import ast
import re
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
FEATURE_PLUGINS = sorted(p for p in PLUGINS.iterdir()
                         if (p / "__init__.py").exists() and not p.name.startswith("country_"))
COUNTRY_PLUGINS = sorted(p for p in PLUGINS.iterdir() if p.name.startswith("country_"))


@pytest.mark.parametrize("plugin", FEATURE_PLUGINS, ids=lambda p: p.name)
def test_a_feature_plugin_has_the_reference_shape(plugin):
    for name in ("__init__.py", "models.py", "schemas.py", "views.py", "README.md"):
        assert (plugin / name).is_file(), f"{plugin.name} lacks {name}"
    assert (plugin / "templates" / plugin.name).is_dir()
    assert list((plugin / "migrations").glob(f"{plugin.name}_*.py")), "no migration branch"
    assert (plugin / "translations" / "ar" / "LC_MESSAGES" / "messages.po").is_file()


@pytest.mark.parametrize("plugin", FEATURE_PLUGINS, ids=lambda p: p.name)
def test_a_migration_branch_is_numbered_and_its_first_revision_depends_on_core(plugin):
    """As `rabita db revision --branch <plugin>` writes them: <plugin>_0001_<what>.py, ...;
    the first starts the branch and depends on a core revision, each next one follows."""
    files = sorted((plugin / "migrations").glob(f"{plugin.name}_*.py"))
    for number, path in enumerate(files, 1):
        revision = f"{plugin.name}_{number:04d}"
        text = path.read_text()
        assert path.name.startswith(f"{revision}_"), f"{path.name}: expected {revision}_..."
        assert re.search(rf"^revision = [\"']{revision}[\"']$", text, re.M), path.name
        if number == 1:
            assert re.search(rf"^branch_labels = \([\"']{plugin.name}[\"'],\)$", text, re.M)
            assert re.search(r"^depends_on = [\"']core_\d{4}[\"']$", text, re.M), path.name
        else:
            below = f"{plugin.name}_{number - 1:04d}"
            assert re.search(rf"^down_revision = [\"']{below}[\"']$", text, re.M), path.name


@pytest.mark.parametrize("plugin", FEATURE_PLUGINS + COUNTRY_PLUGINS, ids=lambda p: p.name)
def test_init_holds_hook_implementations_only(plugin):
    tree = ast.parse((plugin / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            decorators = {d.id if isinstance(d, ast.Name) else getattr(d, "attr", "")
                          for d in node.decorator_list}
            assert "hookimpl" in decorators, f"{plugin.name}.{node.name} is not a hook"
        assert not isinstance(node, ast.ClassDef), f"{plugin.name}/__init__.py defines a class"


@pytest.mark.parametrize("plugin", COUNTRY_PLUGINS, ids=lambda p: p.name)
def test_a_country_plugin_is_data(plugin):
    assert (plugin / "README.md").is_file() and (plugin / "data").is_dir()
