"""Record types: what plugins document, declared once with a schema, known to core by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from core.plugins import require_prefix, results_by_plugin

EXTENSION_KEY = "rabita.record_types"


@dataclass(frozen=True)
class RecordType:
    """A kind of record a plugin keeps: its name (``<plugin>.<kind>``), schema and version."""

    name: str
    schema: Any
    version: int = 1
    label: str = ""


class RecordTypeRegistry:
    def __init__(self, record_types: Iterable[RecordType]):
        self._by_name: dict[str, RecordType] = {}
        for record_type in record_types:
            if record_type.name in self._by_name:
                raise ValueError(f"The record type {record_type.name!r} is declared twice.")
            self._by_name[record_type.name] = record_type

    def __iter__(self):
        return iter(self._by_name.values())

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def get(self, name: str) -> RecordType:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"No record type named {name!r} is registered.") from None


def init_app(app: Flask) -> None:
    declared = []
    for plugin, record_types in results_by_plugin(app, "register_record_types"):
        for record_type in record_types:
            require_prefix("record type", record_type.name, plugin, ".")
            declared.append(record_type)
    app.extensions[EXTENSION_KEY] = RecordTypeRegistry(declared)


def record_types(app: Flask | None = None) -> RecordTypeRegistry:
    return (app or current_app).extensions[EXTENSION_KEY]


def announce_saved(record: Any, user: Any) -> None:
    """Tell plugins a record's new version is committed (call only after the commit)."""
    from core.plugins import plugin_manager

    plugin_manager().hook.record_saved(record=record, user=user)
