"""Message catalogs: extract each package's strings and keep its ar/fr catalogs in step.

    python -m tools.catalogs update   # after changing user-facing strings
    python -m tools.catalogs check    # list strings still untranslated (exit 1 if any)

Each package (core, federation, every plugin) owns its own ``translations/`` folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("ar", "fr")
KEYWORDS = DEFAULT_KEYWORDS | {"_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def packages() -> list[Path]:
    """Every folder that owns a catalog: core, federation and each plugin."""
    found = [ROOT / "core", ROOT / "federation"]
    found += sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists())
    return [p for p in found if p.is_dir()]


def extract(package: Path) -> Catalog:
    catalog = Catalog(project="rabita", charset="utf-8")
    found = extract_from_dir(
        str(package), METHODS, options_map=OPTIONS, keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
    )
    for filename, lineno, message, comments, context in found:
        if "/tests/" in filename:
            continue
        catalog.add(message, None, [(str(package.name + "/" + filename), lineno)],
                    auto_comments=comments, context=context)
    return catalog


def po_path(package: Path, locale: str) -> Path:
    return package / "translations" / locale / "LC_MESSAGES" / "messages.po"


HEADER = {
    "project": "rabita",
    "version": "0.1",
    "copyright_holder": "The Rabita contributors",
    "msgid_bugs_address": "",
    "last_translator": "The Rabita contributors",
    "language_team": "The Rabita contributors",
    "charset": "utf-8",
}


def read(path: Path, locale: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=locale, fuzzy=False, **HEADER)
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def update(package: Path) -> None:
    template = extract(package)
    if not len(template):
        return
    for locale in LOCALES:
        path = po_path(package, locale)
        catalog = read(path, locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True)


def fill(package: Path, locale: str, translations: dict[str, str | tuple[str, ...]]) -> None:
    """Set translations for msgids already in the catalog (used when adding a few strings)."""
    path = po_path(package, locale)
    catalog = read(path, locale)
    for msgid, text in translations.items():
        entry = catalog.get(msgid)
        if entry is None:
            raise KeyError(f"{msgid!r} is not in {path}; run `python -m tools.catalogs update`")
        entry.string = text
        entry.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True)


def untranslated(package: Path, locale: str) -> list[str]:
    """Strings of ``package`` with no (or a fuzzy) translation in ``locale``."""
    template = extract(package)
    catalog = read(po_path(package, locale), locale)
    missing = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        strings = entry.string if entry is not None else None
        empty = not all(strings) if isinstance(strings, tuple | list) else not strings
        if entry is None or entry.fuzzy or empty:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        for package in packages():
            update(package)
        return 0
    problems = 0
    for package in packages():
        for locale in LOCALES:
            for message in untranslated(package, locale):
                problems += 1
                print(f"{package.name} [{locale}] untranslated: {message}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
