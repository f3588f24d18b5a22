"""Markdown to safe HTML: markdown-it-py (CommonMark, raw HTML off) renders, then nh3 (the
ammonia sanitiser) keeps only the tags and attributes below — so no raw HTML, script, event
handler, style, SVG or ``javascript:`` link ever reaches a page, whoever wrote the text and
whichever node it came from. Images are kept only when they are this node's own files
(a path under the library); any other image source is dropped, so a text cannot make a
reader's browser fetch anything from elsewhere (a tracking pixel would reveal who reads).
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "em", "strong", "del", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr",
    "th", "td",
})
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"},
              "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Where this node serves a library file from (the only image source kept).
OWN_FILES = "/knowledge/"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default": CommonMark with raw HTML off (written HTML is shown as text), plus tables
    # and strikethrough; links are checked by markdown-it's validateLink (no javascript:,
    # vbscript:, file: or data: other than images) and again by nh3 below.
    return MarkdownIt("js-default", {"linkify": False, "typographer": False})


def _attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and not (
            value.startswith(OWN_FILES) and "//" not in value and "\\" not in value
            and ".." not in value):
        return None
    return value


def sanitise(html: str) -> str:
    """``html`` with only the allowed tags, attributes and link schemes kept."""
    return nh3.clean(html, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer nofollow",
                     strip_comments=True, attribute_filter=_attribute)


def markdown(text: str | None) -> Markup:
    """Markdown ``text`` as HTML safe to put in a page. Its headings start at ``h2`` (the
    page's title is its one ``h1``)."""
    if not text:
        return Markup("")
    parser = _parser()
    tokens = parser.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    html = parser.renderer.render(tokens, parser.options, {})
    return Markup(sanitise(html))  # noqa: S704 -- sanitised just above
