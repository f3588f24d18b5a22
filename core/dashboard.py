"""What plugins hand to core's pages: menu entries, home-page panels and search results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A plugin's search_results may return up to this many hits (not a page): the search page
# counts them all and shows them SEARCH_PAGE at a time.
SEARCH_LIMIT = 100
SEARCH_PAGE = 20


@dataclass(frozen=True)
class NavItem:
    """A menu entry: a label, the endpoint it opens, and the permission needed to see it."""

    label: str
    endpoint: str
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class DashboardItem:
    """A panel on the home page, rendered from the plugin's template with ``context``."""

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class SearchResult:
    """One hit: what it is, where it opens, and a short excerpt that the user may see."""

    kind: str
    title: str
    url: str
    excerpt: str = ""
