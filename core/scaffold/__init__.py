"""`rabita plugin new NAME`: a new plugin in the standard shape (see plugins/cases), written from
the templates beside this file, with one record type, its page, catalogs and a passing test."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from core.plugins import RESERVED_NAMES

TEMPLATES = Path(__file__).parent
NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}\Z")
LOCALES = ("ar", "fr")

# The scaffold's own strings, translated; the plugin's title (and a record type named
# otherwise than "entry") is left for its author: `python -m tools.catalogs check` lists it.
STRINGS = {
    "Entry": ("قيد", "Entrée"),
    "Title": ("العنوان", "Titre"),
    "Date": ("التاريخ", "Date"),
    "Contact": ("جهة الاتصال", "Contact"),
    "See its records (without identifying data unless allowed)": (
        "الاطلاع على سجلاته (دون البيانات المُعرِّفة إلا بإذن)",
        "Voir ses fiches (sans données identifiantes sauf autorisation)"),
    "Write new records": ("كتابة سجلات جديدة", "Rédiger de nouvelles fiches"),
    "The node is locked: nothing can be written until an administrator unlocks it.": (
        "العقدة مقفلة: لا يمكن كتابة أي شيء حتى تفتحها إحدى المشرفات.",
        "Le nœud est verrouillé : rien ne peut être écrit tant qu'une administratrice ne "
        "l'a pas déverrouillé."),
    "Saved.": ("حُفظ.", "Enregistré."),
    "Nothing yet.": ("لا شيء بعد.", "Rien pour l'instant."),
    "Download CSV": ("تنزيل CSV", "Télécharger en CSV"),
    "Download JSON": ("تنزيل JSON", "Télécharger en JSON"),
    "Add": ("إضافة", "Ajouter"),
}


class ScaffoldError(ValueError):
    """The plugin cannot be written; the message says why (nothing was written)."""


@dataclass(frozen=True)
class Names:
    """Every spelling of the plugin's and its record type's names the templates use."""

    name: str  # demo_notes
    kind: str  # entry
    package: str  # plugins.demo_notes

    def values(self) -> dict[str, str]:
        return {
            "name": self.name, "NAME": self.name.upper(), "url": self.name.replace("_", "-"),
            "title": self.title, "package": self.package, "kind": self.kind,
            "kinds": plural(self.kind.replace("_", " ")),
            "Kind": "".join(word.capitalize() for word in self.kind.split("_")),
            "Kind_label": self.kind_label,
        }

    @property
    def title(self) -> str:
        return self.name.replace("_", " ").capitalize()

    @property
    def kind_label(self) -> str:
        return self.kind.replace("_", " ").capitalize()


def write_plugin(name: str, into: Path, tests_into: Path, kind: str = "entry") -> list[Path]:
    """Write the plugin ``name`` as ``into/<name>/`` and its test as ``tests_into/<name>/``;
    returns the files written. Refuses a bad or taken name before writing anything."""
    folder, tests = into / name, tests_into / name
    _check(name, kind, folder, tests)
    names = Names(name, kind, package_of(folder))
    written = [_render(source, folder / target, names) for source, target in _plugin_files(names)]
    (folder / "migrations").mkdir()
    written += _catalogs(folder, names)
    tests.mkdir(parents=True)
    (tests / "__init__.py").write_text("")
    written += [tests / "__init__.py",
                _render(TEMPLATES / "tests" / "test_plugin.py.tmpl", tests / f"test_{name}.py",
                        names)]
    return written


def plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in set("aeiou"):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


def package_of(folder: Path) -> str:
    """The dotted name ``folder`` imports as: its parents that are packages, then itself."""
    parts = [folder.name]
    parent = folder.resolve().parent
    while (parent / "__init__.py").exists():
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts)


def _check(name: str, kind: str, folder: Path, tests: Path) -> None:
    for what, value in (("plugin", name), ("record type", kind)):
        if not NAME.match(value) or keyword.iskeyword(value):
            raise ScaffoldError(
                f"The {what} name {value!r} is not usable: 2 to 40 characters, lower-case Latin "
                "letters, digits and underscores, starting with a letter.")
    if name in RESERVED_NAMES:
        raise ScaffoldError(f"The name {name!r} is reserved for core; choose another.")
    if name.startswith("country_"):
        raise ScaffoldError("A country plugin is data, not a record type: copy "
                            "plugins/country_tn instead.")
    for path in (folder, tests):
        if path.exists():
            raise ScaffoldError(f"{path} already exists.")
    if not folder.parent.is_dir():
        raise ScaffoldError(f"{folder.parent} is not a folder.")


def _plugin_files(names: Names) -> list[tuple[Path, Path]]:
    """(template, where it goes in the plugin's folder) for every file of the plugin."""
    found = []
    for source in sorted((TEMPLATES / "plugin").rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATES / "plugin").with_suffix("")
        if relative.parts[0] == "templates":  # templates/<plugin>/..., as Flask looks them up
            relative = Path("templates", names.name, *relative.parts[1:])
        found.append((source, relative))
    return found


def _render(source: Path, target: Path, names: Names) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(Template(source.read_text()).substitute(names.values()))
    return target


def _catalogs(folder: Path, names: Names) -> list[Path]:
    """Its ar and fr catalogs: the scaffold's strings translated, the plugin's own not yet."""
    written = []
    for index, locale in enumerate(LOCALES):
        catalog = Catalog(locale=locale, project=names.name, charset="utf-8", fuzzy=False)
        for msgid in [names.title, names.kind_label, *STRINGS]:
            catalog.add(msgid, STRINGS[msgid][index] if msgid in STRINGS else "")
        messages = folder / "translations" / locale / "LC_MESSAGES"
        messages.mkdir(parents=True)
        with (messages / "messages.po").open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True)
        with (messages / "messages.mo").open("wb") as handle:
            write_mo(handle, catalog)
        written.append(messages / "messages.po")
    return written
