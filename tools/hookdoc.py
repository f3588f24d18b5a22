"""The hook reference in docs/plugins.md, generated from core/hookspecs.py's docstrings.

    python -m tools.hookdoc           # rewrite the reference after adding or changing a hook
    python -m tools.hookdoc --check   # exit 1 if docs/plugins.md is not current

A docstring says what to return or when the hook is called, then ``Args:`` (``name (type):
what it is``), ``Returns:`` (``type: what it is``) and ``Example::`` (indented code).
"""

from __future__ import annotations

import inspect
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from core import hookspecs

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
BEGIN = ("<!-- The hook reference: generated from core/hookspecs.py by `python -m tools.hookdoc`;"
         " edit the docstrings, not this. -->")
END = "<!-- End of the hook reference. -->"
SECTION = re.compile(r"^# -- (.+?) -{3,}$")
ARGUMENT = re.compile(r"^(\w+) \(([^)]+)\): (.*)$")
RETURNS = re.compile(r"^([^:]+): (.*)$")
HEADERS = ("Args:", "Returns:", "Example::")


@dataclass
class Hook:
    name: str
    section: str
    first_result: bool
    summary: str
    arguments: list[tuple[str, str, str]] = field(default_factory=list)
    returns: tuple[str, str] = ("", "")
    example: str = ""


def hooks() -> list[Hook]:
    """Every hook in the order of core/hookspecs.py, its docstring read into parts."""
    found, section = [], ""
    for line in inspect.getsource(hookspecs).splitlines():
        if match := SECTION.match(line):
            section = match.group(1)
        elif match := re.match(r"^def (\w+)\(", line):
            found.append(parse(match.group(1), section))
    return found


def parse(name: str, section: str) -> Hook:
    function = getattr(hookspecs, name)
    options = getattr(function, f"{hookspecs.PROJECT}_spec")
    parts = split(inspect.getdoc(function) or "")
    hook = Hook(name, section, bool(options.get("firstresult")), parts.get("", "").strip())
    hook.arguments = [_argument(entry) for entry in _entries(parts.get("Args:", ""))]
    returns = " ".join(parts.get("Returns:", "").split())
    if match := RETURNS.match(returns):
        hook.returns = (match.group(1), match.group(2))
    hook.example = textwrap.dedent(parts.get("Example::", "")).strip("\n")
    return hook


def split(doc: str) -> dict[str, str]:
    """A docstring's text before its first section (key ""), and each section's text."""
    parts, current = {"": []}, ""
    for line in doc.splitlines():
        if line.strip() in HEADERS and not line.startswith(" "):
            current = line.strip()
            parts[current] = []
        else:
            parts[current].append(line)
    return {key: "\n".join(lines) for key, lines in parts.items()}


def _entries(text: str) -> list[str]:
    """Indented entries, continuation lines joined to theirs."""
    entries: list[str] = []
    for line in textwrap.dedent(text).splitlines():
        if line.startswith(" ") and entries:
            entries[-1] += " " + line.strip()
        elif line.strip():
            entries.append(line.strip())
    return entries


def _argument(entry: str) -> tuple[str, str, str]:
    match = ARGUMENT.match(entry)
    return (match.group(1), match.group(2), match.group(3)) if match else (entry, "", "")


def reference() -> str:
    """The generated Markdown, between its two markers."""
    lines, section = [BEGIN, ""], None
    for hook in hooks():
        if hook.section != section:
            section = hook.section
            lines += [f"### {section[0].upper()}{section[1:]}", ""]
        lines += render(hook)
    return "\n".join([*lines, END])


def markdown(text: str) -> str:
    """reStructuredText's ``code`` as Markdown's `code`."""
    return text.replace("``", "`")


def render(hook: Hook) -> list[str]:
    signature = ", ".join(inspect.signature(getattr(hookspecs, hook.name)).parameters)
    lines = [f"#### `{hook.name}({signature})`", "", markdown(hook.summary), ""]
    if hook.first_result:
        lines += ["Stops at the first plugin that returns something other than None.", ""]
    if hook.arguments:
        lines += ["Arguments:", ""]
        lines += [f"- `{name}` (`{kind}`): {markdown(text)}" for name, kind, text in hook.arguments]
        lines.append("")
    kind, text = hook.returns
    lines += [f"Returns `{kind}`: {markdown(text)}", "", "```python", hook.example, "```", ""]
    return lines


def current(text: str) -> str:
    """The reference as it stands in ``text`` (empty when its markers are missing)."""
    start, end = text.find(BEGIN), text.find(END)
    return text[start:end + len(END)] if start >= 0 and end > start else ""


def rewrite(path: Path = DOCS) -> bool:
    """Put the generated reference in place of the old one; True if anything changed."""
    text = path.read_text()
    old = current(text)
    if not old:
        raise SystemExit(f"{path} has no hook reference markers: add {BEGIN!r} and {END!r}.")
    new = reference()
    if old == new:
        return False
    path.write_text(text.replace(old, new))
    return True


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if current(DOCS.read_text()) != reference():
            print("docs/plugins.md's hook reference is out of date: run python -m tools.hookdoc")
            return 1
        return 0
    print("Rewrote the hook reference." if rewrite() else "The hook reference was current.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
