"""Plugin settings: each declared once, with its type, default and meaning, and checked at
start-up, so a misspelt or mistyped value in an instance config stops the node with a sentence
instead of surfacing later as odd behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from core.config import StartupError
from core.plugins import results_by_plugin

EXTENSION_KEY = "rabita.settings"


class SettingError(StartupError):
    """A plugin declares a setting wrongly, or the instance config gives one a wrong value."""


@dataclass(frozen=True)
class Setting:
    """One setting a plugin reads from ``app.config``: ``<PLUGIN>_<WORD>`` in capitals.

    ``kind`` is the type (or tuple of types) a value must be: ``int`` does not accept
    ``True``, and ``float`` accepts an ``int``; ``choices`` lists the only values allowed
    (empty: any of the type); ``help`` says what it does, for the reader of the config.
    """

    name: str
    default: Any
    help: str
    kind: type | tuple[type, ...] | None = None
    choices: tuple = ()

    @property
    def types(self) -> tuple[type, ...]:
        kind = type(self.default) if self.kind is None else self.kind
        types = kind if isinstance(kind, tuple) else (kind,)
        return types + (int,) if float in types else types

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (never quoting it: it may be a secret), or None."""
        wrong_bool = isinstance(value, bool) and bool not in self.types
        if wrong_bool or not isinstance(value, self.types):
            names = " or ".join(_type_name(t) for t in self.types)
            return f"must be {names}, not {_type_name(type(value))}"
        if self.choices and value not in self.choices:
            return "must be one of " + ", ".join(repr(c) for c in self.choices)
        return None


def init_app(app: Flask) -> None:
    """Collect every active plugin's settings, give unset ones their default, check the rest."""
    declared: dict[str, Setting] = {}
    for plugin, settings in results_by_plugin(app, "register_settings"):
        for setting in settings:
            _check_declaration(plugin, setting, declared)
            declared[setting.name] = setting
    for setting in declared.values():
        _apply(app, setting)
    app.extensions[EXTENSION_KEY] = declared


def declared(app: Flask | None = None) -> dict[str, Setting]:
    """Every setting the active plugins declare, by name."""
    return (app or current_app).extensions[EXTENSION_KEY]


def _check_declaration(plugin: str, setting: Setting, declared: dict[str, Setting]) -> None:
    prefix = f"{plugin.upper()}_"
    if not setting.name.startswith(prefix) or setting.name != setting.name.upper():
        raise SettingError(
            f"The plugin {plugin!r} declares the setting {setting.name!r}; its settings are "
            f"named in capitals and start with {prefix!r}. Rename it.")
    if setting.name in declared:
        raise SettingError(f"The setting {setting.name!r} is declared twice; declare it once.")
    problem = setting.problem(setting.default)
    if problem:
        raise SettingError(f"The default of {setting.name} declared by {plugin!r} {problem}.")


def _apply(app: Flask, setting: Setting) -> None:
    if setting.name not in app.config:
        app.config[setting.name] = setting.default
        return
    problem = setting.problem(app.config[setting.name])
    if problem:
        raise SettingError(
            f"The setting {setting.name} in the instance config {problem} ({setting.help}). "
            f"Fix it in config.py or the RABITA_{setting.name} environment variable.")


def _type_name(kind: type) -> str:
    return {type(None): "None", str: "text", int: "a whole number", float: "a number",
            bool: "True or False", tuple: "a tuple", list: "a list", dict: "a dict"}.get(
        kind, kind.__name__)


@click.command("settings")
@with_appcontext
def settings_command():
    """List the settings the active plugins declare: name, default, whether the config
    changes it, what it does (never a value: it may be a secret)."""
    app = current_app
    for setting in declared(app).values():
        state = "changed" if app.config[setting.name] != setting.default else "default"
        click.echo(f"{setting.name} = {setting.default!r}  [{state}]  {setting.help}")
