"""Small-cell suppression: which counts of a statistics table may be shown.

Pure functions over counts, no database. A count is shown only if it is 0 or at least ``k``
(primary suppression); then more cells are hidden until no hidden one can be worked out from
what is shown (secondary suppression):

- a one-dimension table (cells and their total): hidden cells are never alone — if exactly
  one figure is hidden, the smallest positive shown cell is hidden too (or the total, when
  there is none);
- a two-dimension table with row and column totals and a grand total: the margins are
  protected first, exactly as the one-dimension tables of each dimension are (so the two
  queries agree, figure for figure), then inner cells are hidden until every hidden figure
  lies on a cycle of hidden figures in the table's bipartite graph (rows and columns as
  nodes, figures as edges): a hidden figure that is a bridge of that graph is the only
  unknown of some line sum, and can be computed. The cheapest cycle (by the counts it
  hides) through each bridge is hidden, never through a zero or a total.

When no such cycle exists the table is withheld: every figure hidden but its zero lines (a row
or column whose total is 0, with its cells) — the one-dimension table of that dimension shows
that zero, and a zero total says every cell of its line is 0, so hiding them hides nothing.

**Periods** (two queries whose periods differ, Jan–Jun and Jan–May, must not give June's
small cells by subtraction): a period is whole months, and suppression is decided month by
month — each month's table (with its margins) is protected as above, and a figure of a
period is shown only when it is shown in *every* month of the period
(:func:`protect_months_1d`, :func:`protect_months_2d`). Then every figure any period shows is
a sum of figures shown month by month, so all the periods asked together say no more than
the protected months do; and a month's hidden figure can be moved (its cycle) without
changing anything any month shows, so no hidden figure of any period — a difference of two
periods included — can be worked out. The price: a period's figure is hidden as soon as one
of its months has a small count there. docs/confidentiality.md ("Periods").
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Mapping

TOTAL = "__total__"  # the key of a total in a table's rows or columns
DEFAULT_K = 5


def primary(value: int, k: int) -> bool:
    """Whether a count is too small to show: 1 .. k-1 (0 is shown: nobody)."""
    return 0 < value < k


def protect_1d(cells: Mapping[Hashable, int], k: int) -> set:
    """The keys to hide of a one-dimension table ``cells``; its total is ``TOTAL``."""
    figures = dict(cells)
    figures[TOTAL] = sum(cells.values())
    hidden = {key for key, value in figures.items() if primary(value, k)}
    if len(hidden) == 1:
        shown = sorted((value, str(key)) for key, value in cells.items()
                       if key not in hidden and value > 0)
        if shown:
            by_text = {str(key): key for key in cells}
            hidden.add(by_text[shown[0][1]])
        else:
            hidden.add(TOTAL)
    return hidden


def protect_2d(cells: Mapping[tuple[Hashable, Hashable], int], rows: list, columns: list,
               k: int) -> set:
    """The keys ``(row, column)`` to hide of a two-dimension table with its margins: a row's
    total is ``(row, TOTAL)``, a column's ``(TOTAL, column)``, the grand total
    ``(TOTAL, TOTAL)``. ``cells`` may leave out zeros."""
    value = _extended(cells, rows, columns)
    row_margin = {r: value[(r, TOTAL)] for r in rows}
    column_margin = {c: value[(TOTAL, c)] for c in columns}
    hidden = {(r, TOTAL) if r != TOTAL else (TOTAL, TOTAL) for r in protect_1d(row_margin, k)}
    hidden |= {(TOTAL, c) if c != TOTAL else (TOTAL, TOTAL)
               for c in protect_1d(column_margin, k)}
    hidden |= {(r, c) for r in rows for c in columns if primary(value[(r, c)], k)}
    while True:
        bridge = _a_bridge(hidden)
        if bridge is None:
            return hidden
        path = _cheapest_cycle(bridge, hidden, value, rows, columns)
        if path is None:
            return _withheld(value, rows, columns)
        hidden |= path


def _withheld(value: dict, rows: list, columns: list) -> set:
    """Every figure of a table that cannot be protected, but those of its zero lines."""
    empty_rows = {r for r in rows if value[(r, TOTAL)] == 0}
    empty_columns = {c for c in columns if value[(TOTAL, c)] == 0}
    return {(r, c) for r, c in value if r not in empty_rows and c not in empty_columns}


def _extended(cells, rows, columns) -> dict:
    value = {(r, c): int(cells.get((r, c), 0)) for r in rows for c in columns}
    for r in rows:
        value[(r, TOTAL)] = sum(value[(r, c)] for c in columns)
    for c in columns:
        value[(TOTAL, c)] = sum(value[(r, c)] for r in rows)
    value[(TOTAL, TOTAL)] = sum(value[(r, TOTAL)] for r in rows)
    return value


def _node_row(r):
    return ("r", r)


def _node_column(c):
    return ("c", c)


def _a_bridge(hidden: set):
    """A hidden figure that is a bridge of the graph of hidden figures, or None."""
    adjacent: dict = {}
    for r, c in hidden:
        adjacent.setdefault(_node_row(r), []).append((_node_column(c), (r, c)))
        adjacent.setdefault(_node_column(c), []).append((_node_row(r), (r, c)))
    order, low, counter = {}, {}, [0]
    for start in sorted(adjacent, key=repr):
        if start in order:
            continue
        found = _bridge_from(start, adjacent, order, low, counter)
        if found is not None:
            return found
    return None


def _bridge_from(start, adjacent, order, low, counter):
    """Tarjan's bridge search without recursion (tables may have hundreds of rows)."""
    order[start] = low[start] = counter[0]
    counter[0] += 1
    stack = [(start, None, iter(adjacent[start]))]
    while stack:
        node, via, edges = stack[-1]
        advanced = False
        for neighbour, edge in edges:
            if edge == via:
                continue
            if neighbour not in order:
                order[neighbour] = low[neighbour] = counter[0]
                counter[0] += 1
                stack.append((neighbour, edge, iter(adjacent[neighbour])))
                advanced = True
                break
            low[node] = min(low[node], order[neighbour])
        if advanced:
            continue
        stack.pop()
        if stack:
            parent = stack[-1][0]
            low[parent] = min(low[parent], low[node])
            if low[node] > order[parent]:
                return via
    return None


def _cheapest_cycle(bridge, hidden, value, rows, columns):
    """The shown inner cells to hide so that ``bridge`` lies on a cycle of hidden figures:
    the cheapest path between its two ends avoiding it (hidden figures cost nothing, a shown
    inner cell its count; zeros and totals are never used). None when there is no path."""
    start, goal = _node_row(bridge[0]), _node_column(bridge[1])
    all_rows, all_columns = list(rows) + [TOTAL], list(columns) + [TOTAL]
    best = {start: 0}
    came: dict = {}
    queue = [(0, 0, start)]
    tie = 0
    while queue:
        cost, _, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best.get(node, float("inf")):
            continue
        side, key = node
        others = all_columns if side == "r" else all_rows
        for other in others:
            cell = (key, other) if side == "r" else (other, key)
            if cell == bridge:
                continue
            if cell in hidden:
                step = 0
            elif TOTAL in cell or value[cell] <= 0:
                continue
            else:
                step = value[cell]
            following = _node_column(other) if side == "r" else _node_row(other)
            if cost + step < best.get(following, float("inf")):
                best[following] = cost + step
                came[following] = (node, cell)
                tie += 1
                heapq.heappush(queue, (cost + step, tie, following))
    if goal not in best:
        return None
    path, node = set(), goal
    while node != start:
        node, cell = came[node]
        if cell not in hidden:
            path.add(cell)
    return path


def protect_months_1d(by_month: Mapping[Hashable, Mapping[Hashable, int]], k: int) -> set:
    """The keys to hide of a one-dimension table over a period, given its cells month by
    month (``by_month``: month -> {key: count}; a key missing from a month is 0 there):
    those hidden in any month's own table (``TOTAL`` among them)."""
    possible = {key for cells in by_month.values() for key in cells} | {TOTAL}
    hidden: set = set()
    for cells in _smallest_first(by_month, k):
        if hidden.issuperset(cells) and TOTAL in hidden:
            continue  # all this month could hide is hidden already
        hidden |= protect_1d(cells, k)
        if possible <= hidden:
            break  # every figure is hidden already: the other months cannot change that
    return hidden


def protect_months_2d(by_month: Mapping[Hashable, Mapping[tuple[Hashable, Hashable], int]],
                      k: int) -> set:
    """The keys ``(row, column)`` (totals with ``TOTAL``) to hide of a two-dimension table
    over a period, given its cells month by month: those hidden in any month's own table,
    which has the rows and columns that month counts."""
    possible = {(TOTAL, TOTAL)}
    for cells in by_month.values():
        for row, column in cells:
            possible |= {(row, column), (row, TOTAL), (TOTAL, column)}
    hidden: set = set()
    for cells in _smallest_first(by_month, k):
        rows = _in_order({row for row, _ in cells})
        columns = _in_order({column for _, column in cells})
        if (TOTAL, TOTAL) in hidden and all(
                (row, TOTAL) in hidden and all((row, column) in hidden for column in columns)
                for row in rows) and all((TOTAL, column) in hidden for column in columns):
            continue  # all this month could hide is hidden already
        hidden |= protect_2d(cells, rows, columns, k)
        if possible <= hidden:
            break  # every figure is hidden already: the other months cannot change that
    return hidden


def _smallest_first(by_month: Mapping, k: int) -> list:
    """The months' tables, those with the most small counts first (they hide the most, so
    a table that ends up all hidden is known to be sooner)."""
    return sorted(by_month.values(),
                  key=lambda cells: -sum(1 for value in cells.values() if primary(value, k)))


def _in_order(keys: set) -> list:
    return sorted(keys, key=lambda key: (key is None, str(key)))
