"""Small-cell suppression, audited: over random tables and random pairs of overlapping
queries, no shown count is below k and no hidden count can be worked out from what is shown.

The audit is the standard one: every shown figure (cells, row and column totals, grand
total, of both queries) is a linear equation over the table's unknown non-negative cells;
for each hidden figure a linear program finds its least and greatest value under them. A
hidden figure is disclosed when the two are equal.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from federation.suppression import TOTAL, protect_1d, protect_2d

K = 5
counts = st.integers(0, 12) | st.integers(0, 3) | st.integers(0, 40)


@st.composite
def tables(draw):
    rows, columns = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return {(r, c): draw(counts) for r in range(rows) for c in range(columns)}, rows, columns


def shown_2d(cells, rows, columns):
    """The figures a 2-D query shows: {(row, column) or totals: value}."""
    hidden = protect_2d(cells, list(range(rows)), list(range(columns)), K)
    return _figures(cells, rows, columns, hidden)


def shown_1d(cells, rows, columns, axis):
    """The figures of the 1-D query of one dimension (the same filters), keyed as the 2-D's
    margins: a row's count is (row, TOTAL), a column's (TOTAL, column)."""
    if axis == 0:
        margin = {r: sum(cells[(r, c)] for c in range(columns)) for r in range(rows)}
    else:
        margin = {c: sum(cells[(r, c)] for r in range(rows)) for c in range(columns)}
    hidden = protect_1d(margin, K)
    figures = {}
    for key, value in margin.items():
        if key not in hidden:
            figures[(key, TOTAL) if axis == 0 else (TOTAL, key)] = value
    if TOTAL not in hidden:
        figures[(TOTAL, TOTAL)] = sum(margin.values())
    return figures


def _figures(cells, rows, columns, hidden):
    everything = dict(cells)
    for r in range(rows):
        everything[(r, TOTAL)] = sum(cells[(r, c)] for c in range(columns))
    for c in range(columns):
        everything[(TOTAL, c)] = sum(cells[(r, c)] for r in range(rows))
    everything[(TOTAL, TOTAL)] = sum(cells.values())
    return {key: value for key, value in everything.items() if key not in hidden}


def coefficients(key, rows, columns):
    """A figure as a sum of the inner cells (variables r * columns + c)."""
    row = np.zeros(rows * columns)
    r, c = key
    for i in range(rows):
        for j in range(columns):
            if (r in (i, TOTAL)) and (c in (j, TOTAL)):
                row[i * columns + j] = 1
    return row


def disclosed(cells, rows, columns, shown, every=None):
    """The hidden figures (of ``every``: by default all of a 2-D table) whose least and
    greatest values, given ``shown``, are equal."""
    a = np.array([coefficients(key, rows, columns) for key in shown]) if shown else None
    b = np.array(list(shown.values()), dtype=float) if shown else None
    every = every or list(cells) + [(r, TOTAL) for r in range(rows)] + \
        [(TOTAL, c) for c in range(columns)] + [(TOTAL, TOTAL)]
    found = []
    for key in every:
        if key in shown:
            continue
        objective = coefficients(key, rows, columns)
        bounds = []
        for sign in (1, -1):
            result = linprog(sign * objective, A_eq=a, b_eq=b, bounds=(0, None),
                             method="highs")
            assert result.status in (0, 3), result.message  # feasible: the truth is
            bounds.append(float("inf") if result.status == 3 else sign * result.fun)
        if abs(bounds[1] - bounds[0]) < 1e-6:
            found.append((key, bounds[0]))
    return found


def no_small_count(shown):
    return all(value == 0 or value >= K for value in shown.values())


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_a_two_dimension_table_hides_small_counts_and_what_would_reveal_them(table):
    cells, rows, columns = table
    shown = shown_2d(cells, rows, columns)
    assert no_small_count(shown)
    assert disclosed(cells, rows, columns, shown) == []


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(counts, min_size=1, max_size=8))
def test_a_one_dimension_table_hides_small_counts_and_what_would_reveal_them(values):
    cells = {(0, c): v for c, v in enumerate(values)}
    shown = shown_1d(cells, 1, len(values), 1)
    figures = [(TOTAL, c) for c in range(len(values))] + [(TOTAL, TOTAL)]
    assert no_small_count(shown)
    assert disclosed(cells, 1, len(values), shown, figures) == []


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from([0, 1]))
# A table that cannot be protected (withheld) beside its columns' table, which shows two zero
# columns: once withheld with those columns' zero cells hidden, which the zeros gave away.
@example(({(0, 0): 0, (0, 1): 0, (0, 2): 0, (0, 3): 1, (0, 4): 4,
           (1, 0): 0, (1, 1): 0, (1, 2): 5, (1, 3): 1, (1, 4): 0}, 2, 5), 1)
def test_two_overlapping_queries_together_reveal_no_hidden_count(table, axis):
    """A two-dimension table and the one-dimension table of either of its dimensions (same
    filters): the second repeats figures of the first, and must not open its hidden ones."""
    cells, rows, columns = table
    both = {**shown_2d(cells, rows, columns), **shown_1d(cells, rows, columns, axis)}
    assert no_small_count(both)
    assert disclosed(cells, rows, columns, both) == []


# -- periods: two queries whose periods differ must not be differenced ------------------------


@st.composite
def monthly_tables(draw):
    """Counts month by month (2 to 5 months) of a table of 1 to 4 rows and 1 to 3 columns
    (one column: a one-dimension table), and two different, overlapping periods."""
    months, rows = draw(st.integers(2, 5)), draw(st.integers(1, 4))
    columns = draw(st.sampled_from([None, 1, 2, 3]))  # None: a one-dimension table
    cells = {(m, r, c): draw(counts) for m in range(months) for r in range(rows)
             for c in range(columns or 1)}
    periods = draw(st.lists(st.tuples(st.integers(0, months - 1), st.integers(0, months - 1))
                            .map(sorted).map(tuple), min_size=2, max_size=2, unique=True)
                   .filter(lambda p: p[0][0] <= p[1][1] and p[1][0] <= p[0][1]))
    return cells, months, rows, columns, periods


def period_figures(cells, rows, columns, period):
    """What a query for ``period`` (first and last month) shows, as the hub's ``table`` does:
    {(row, column) with TOTAL for totals: value}, from the counts month by month (a month's
    table holds only what it counts, as the database's grouping gives it)."""
    from federation.suppression import protect_months_1d, protect_months_2d

    first, last = period
    by_month = {m: {(r, c): v for (mm, r, c), v in cells.items() if mm == m and v}
                for m in range(first, last + 1)}
    if columns is None:
        hidden = protect_months_1d({m: {r: v for (r, _), v in month.items()}
                                    for m, month in by_month.items()}, K)
        hidden = {(r, TOTAL) if r != TOTAL else (TOTAL, TOTAL) for r in hidden}
        keys = [(r, TOTAL) for r in range(rows)] + [(TOTAL, TOTAL)]
    else:
        hidden = protect_months_2d(by_month, K)
        keys = [(r, c) for r in [*range(rows), TOTAL] for c in [*range(columns), TOTAL]]
    return {(period, key): value_of(cells, period, key) for key in keys
            if key not in hidden}


def value_of(cells, period, key):
    return sum(v for (m, r, c), v in cells.items() if period[0] <= m <= period[1]
               and key[0] in (r, TOTAL) and key[1] in (c, TOTAL))


def month_coefficients(period, key, months, rows, columns):
    """A figure of ``period`` as a sum of the month-by-month cells."""
    row = np.zeros(months * rows * columns)
    for m in range(period[0], period[1] + 1):
        for r in range(rows):
            for c in range(columns):
                if key[0] in (r, TOTAL) and key[1] in (c, TOTAL):
                    row[(m * rows + r) * columns + c] = 1
    return row


def derivable(target, shown, months, rows, columns):
    """Whether the figure ``target`` ((period, key)) has one value under what is shown."""
    a = np.array([month_coefficients(p, key, months, rows, columns) for p, key in shown]) \
        if shown else None
    b = np.array(list(shown.values()), dtype=float) if shown else None
    objective = month_coefficients(*target, months, rows, columns)
    bounds = []
    for sign in (1, -1):
        result = linprog(sign * objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        assert result.status in (0, 3), result.message
        bounds.append(float("inf") if result.status == 3 else sign * result.fun)
    return abs(bounds[1] - bounds[0]) < 1e-6


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(monthly_tables())
def test_two_queries_of_different_periods_cannot_be_differenced(table):
    """Two overlapping periods (Jan–Jun and Jan–May), and every single month asked too: no
    count below k is shown, no hidden figure of either query can be worked out, and no small
    count of any period — June alone, their difference, included — can either."""
    cells, months, rows, columns, periods = table
    width = columns or 1
    cells = {(m, r, c if columns else 0): v for (m, r, c), v in cells.items()}
    asked = [*periods, *((m, m) for m in range(months))]
    shown = {}
    for period in asked:
        shown.update(period_figures(cells, rows, columns, period))
    assert no_small_count(shown)
    keys = [(r, c) for r in [*range(rows), TOTAL] for c in [*range(width), TOTAL]] \
        if columns else [(r, TOTAL) for r in [*range(rows), TOTAL]]
    for period in periods:
        for key in keys:
            if (period, key) not in shown:
                assert not derivable((period, key), shown, months, rows, width), \
                    (period, key)
    every_period = [(a, b) for a in range(months) for b in range(a, months)]
    for period in every_period:
        for key in keys:
            if 0 < value_of(cells, period, key) < K:
                assert not derivable((period, key), shown, months, rows, width), \
                    (period, key)
