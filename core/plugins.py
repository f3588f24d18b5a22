"""Loading the plugins an instance names, and enforcing the conventions every plugin follows."""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pluggy
from flask import Flask, current_app

from core import hookspecs
from core.config import StartupError

ENTRY_POINT_GROUP = "rabita.plugins"
EXTENSION_KEY = "rabita.plugins"

# Names core itself uses for blueprints and commands; no plugin may take them.
RESERVED_NAMES = frozenset(
    {"core", "auth", "admin", "home", "account", "static", "db", "init", "users", "audit", "run",
     "records", "keys", "consent", "plugin", "settings"}
)


class PluginError(StartupError):
    """A plugin could not be loaded or breaks a convention; the message says how to fix it."""


@dataclass(frozen=True)
class LoadedPlugin:
    name: str
    module: ModuleType

    @property
    def package(self) -> str:
        return self.module.__name__


def create_plugin_manager(app: Flask) -> pluggy.PluginManager:
    """Build the app's one plugin manager from ``PLUGINS`` in the config (deny by default)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for plugin in load_plugins(app.config["PLUGINS"]):
        manager.register(plugin.module, name=plugin.name)
    # A misspelled hook name fails here, loudly, instead of never being called.
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(
            f"A plugin implements a hook that does not exist: {error}. "
            "Check the name against core/hookspecs.py."
        ) from error
    app.extensions[EXTENSION_KEY] = manager
    return manager


def plugin_manager(app: Flask | None = None) -> pluggy.PluginManager:
    return (app or current_app).extensions[EXTENSION_KEY]


def load_plugins(references: Iterable[str]) -> list[LoadedPlugin]:
    """Resolve each reference: a dotted module path for built-ins, else an entry-point name."""
    plugins: list[LoadedPlugin] = []
    seen: set[str] = set()
    for reference in references:
        plugin = _load(reference)
        if plugin.name in seen:
            raise PluginError(f"The plugin {plugin.name!r} is listed twice in PLUGINS.")
        if plugin.name in RESERVED_NAMES:
            raise PluginError(
                f"The plugin name {plugin.name!r} is reserved for core; rename the plugin."
            )
        seen.add(plugin.name)
        plugins.append(plugin)
    return plugins


def _load(reference: str) -> LoadedPlugin:
    if "." in reference or reference == "federation":
        try:
            module = importlib.import_module(reference)
        except ImportError as error:
            raise PluginError(
                f"PLUGINS names {reference!r}, which cannot be imported ({error}). "
                "Check the dotted path in the instance config."
            ) from error
        return LoadedPlugin(name=reference.rsplit(".", 1)[-1], module=module)
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == reference:
            return LoadedPlugin(name=reference, module=entry_point.load())
    raise PluginError(
        f"PLUGINS names {reference!r}, but no installed package offers a plugin by that name "
        f"in the {ENTRY_POINT_GROUP!r} entry-point group. Install it, or use a dotted path."
    )


def results_by_plugin(app: Flask, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call one hook in every plugin, keeping who returned what (for convention checks).

    Each call goes through pluggy (``subset_hook_caller``: the hook with every other plugin
    left out), so arguments are matched and calls monitored as for ``manager.hook.<name>``;
    plugins are called in pluggy's order, and a None result is dropped as pluggy drops it.
    """
    manager = plugin_manager(app)
    implementers = [impl.plugin for impl in getattr(manager.hook, hook_name).get_hookimpls()]
    results = []
    for plugin in reversed(implementers):
        alone = manager.subset_hook_caller(hook_name, [p for p in implementers if p is not plugin])
        results.extend((manager.get_name(plugin), value) for value in alone(**kwargs))
    return results


def plugin_package(app: Flask, name: str) -> str:
    return plugin_manager(app).get_plugin(name).__name__


def owner_of_module(app: Flask, module_name: str) -> str | None:
    """Return the plugin name whose package holds ``module_name``, 'core', or None."""
    if module_name == "core" or module_name.startswith("core."):
        return "core"
    for name, module in plugin_manager(app).list_name_plugin():
        package = module.__name__
        if module_name == package or module_name.startswith(package + "."):
            return name
    return None


def require_prefix(kind: str, value: str, plugin: str, separator: str) -> None:
    """Stop start-up when a plugin names something outside its own namespace."""
    expected = f"{plugin}{separator}"
    if not value.startswith(expected):
        raise PluginError(
            f"The plugin {plugin!r} declares the {kind} {value!r}; {kind} names of this plugin "
            f"must start with {expected!r}. Rename it to {expected}{value.split(separator)[-1]}."
        )


def public_page_sections(locale: str) -> list[dict]:
    """What the plugins add to a hub's public page (hook ``public_page_sections``: the public
    calendar, the library), in the order the plugins answer."""
    found: list[dict] = []
    for answer in plugin_manager().hook.public_page_sections(locale=locale):
        found += answer or []
    return found
