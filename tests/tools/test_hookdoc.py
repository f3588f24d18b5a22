"""The hook reference generator: it reads the docstrings' parts and rewrites only its section."""

from tools import hookdoc


def test_a_docstring_is_read_into_its_parts():
    hook = hookdoc.parse("search_results", "Pages")
    assert hook.summary.startswith("Return a list of ``core.dashboard.SearchResult``")
    assert [(name, kind) for name, kind, _text in hook.arguments] == [
        ("query", "core.text.Query"), ("user", "core.models.User")]
    assert "folded form (``folded``, ``terms``)" in hook.arguments[0][2]  # continuation joined
    assert hook.returns[0] == "list[core.dashboard.SearchResult]"
    assert hook.example.startswith("@hookimpl\ndef search_results(query, user):")


def test_every_hook_is_in_the_reference_once_in_the_order_of_hookspecs():
    reference = hookdoc.reference()
    names = [hook.name for hook in hookdoc.hooks()]
    assert [reference.index(f"#### `{name}(") for name in names] == sorted(
        reference.index(f"#### `{name}(") for name in names)
    assert all(reference.count(f"#### `{name}(") == 1 for name in names)
    assert "Stops at the first plugin" in reference.split("#### `node_id(")[1].split("####")[0]


def test_rewriting_touches_the_reference_only(tmp_path):
    guide = tmp_path / "plugins.md"
    guide.write_text(f"# Guide\n\nbefore\n\n{hookdoc.BEGIN}\nold\n{hookdoc.END}\n\nafter\n")
    assert hookdoc.rewrite(guide) is True
    text = guide.read_text()
    assert text.startswith("# Guide\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert hookdoc.current(text) == hookdoc.reference()
    assert hookdoc.rewrite(guide) is False  # already current
